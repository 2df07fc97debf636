# Config validation and the small input functions; nothing else parses config.
import copy
import os

import yaml
from snakemake.utils import validate


# Defaults are filled here, from the schema's `default:` values (their one home), not by
# validate(): a data set's own `battery` block must not be padded with defaults that would
# hide the config-wide settings.
validate(config, "../../config/schema.yaml", set_default=False)
with open(os.path.join(workflow.basedir, "config", "schema.yaml")) as _fh:
    SCHEMA = yaml.safe_load(_fh)


def schema_defaults(*path):
    """The `default:` of each property of the schema object at `path` (e.g. "$defs", "battery")."""
    node = SCHEMA
    for key in path:
        node = node[key]
    return {k: copy.deepcopy(v["default"]) for k, v in node["properties"].items() if "default" in v}

def _selected_datasets():
    """``run_datasets`` (default: every key of ``datasets``), each checked to exist."""
    chosen = config.get("run_datasets")
    if chosen is None:
        return sorted(config["datasets"])
    unknown = [ds for ds in chosen if ds not in config["datasets"]]
    if unknown:
        raise ValueError(f"run_datasets names {unknown}, which are not in datasets {sorted(config['datasets'])}")
    return sorted(chosen)


# --configfile merges into config/config.yaml: a paper config keeps the default sets in
# `datasets` and selects its own with `run_datasets`.
DATASETS = _selected_datasets()
TRAINED = [ds for ds in DATASETS if config["datasets"][ds]["source"] != "authors"]
AUTHORS = [ds for ds in DATASETS if config["datasets"][ds]["source"] == "authors"]
ENV = "../../envs/fairwash.yaml"

# Names and rules of the audit come from the catalogue (importable without torch or POT).
from fairwash import catalogue, store

METHOD_NAMES = list(catalogue.METHODS)
METHOD_NEEDS_MODEL = {m: s.needs_model for m, s in catalogue.METHOD_SPECS.items()}
METHOD_NEEDS_Y = {m: s.needs_y for m, s in catalogue.METHOD_SPECS.items()}
DEFAULT_METHODS = list(catalogue.DEFAULT_METHODS)


def _alternation(names):
    # a regex that matches none of the names when the list is empty
    return "|".join(names) if names else "(?!x)x"


def _canonical(obj):
    """Keys sorted recursively, so reordering a config file does not look like a change."""
    if isinstance(obj, dict):
        return {k: _canonical(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_canonical(v) for v in obj]
    return obj


def dataset_spec(ds):
    """The data set's config block, with defaults filled in (a canonical copy)."""
    spec = copy.deepcopy(config["datasets"][ds])
    spec.setdefault("params", {})
    spec["model"] = {**schema_defaults("$defs", "model"), **spec.get("model", {})}
    return _canonical(spec)


def data_spec(ds):
    """Only what the data depend on: the source and its parameters."""
    spec = dataset_spec(ds)
    return {"source": spec["source"], "params": spec["params"]}


def dataset_seed(ds):
    """A per-data-set seed derived from the master seed and the name (stable across runs)."""
    import zlib

    return (int(config["seed"]) * 1_000_003 + zlib.crc32(ds.encode())) % (2**31)


def methods_for(ds):
    """The methods run on data set ``ds``: its own list, else the config's, else the paper's."""
    spec = config["datasets"][ds]
    methods = spec.get("methods", config.get("methods", DEFAULT_METHODS))
    if spec["source"] == "authors":  # no true label Y
        methods = [m for m in methods if not METHOD_NEEDS_Y[m]]
    return [m for m in METHOD_NAMES if m in methods]


def method_options_global(method):
    """Config-wide options of one method (keyed by its family, e.g. Grad's C0)."""
    return dict(config.get("method_options", {}).get(catalogue.options_key(method), {}))


def method_options(ds, method):
    """Options of one method: config-wide, then the data set's own."""
    opts = method_options_global(method)
    opts.update(config["datasets"][ds].get("method_options", {}).get(catalogue.options_key(method), {}))
    return _canonical(opts)


def cache_dir():
    return config.get("cache_dir", "results/cache")


def authors_dir():
    import os

    return config.get("authors_dir") or os.environ.get("FAIRWASH_AUTHORS_DIR") or "results/cache/authors"


def progress():
    return bool(config.get("progress", False))


def all_outputs():
    return [
        "results/tables/datasets.csv",
        "results/tables/datasets.md",
        "results/tables/shift.csv",
        *expand("results/counterfactual/{ds}.json", ds=TRAINED),
        *expand("results/figures/counterfactual_{ds}.png", ds=TRAINED),
        "results/counterfactual/demo.json",
        "results/counterfactual/demo_control.json",
        "results/tables/counterfactual.csv",
        "results/tables/counterfactual.md",
        "results/tables/counterfactual.tex",
        *audit_outputs(),
        *FIGURE_OUTPUTS,
        *TABLE_OUTPUTS,
        *PROTOCOL_OUTPUTS,
        *replicates_outputs(),
    ]


# ---- manipulate stage helpers ----
def trained_model_files(ds):
    """The pipeline's trained model of `ds` (the results store's paths)."""
    return {part: str(store.path("model", part, ds=ds)) for part in ("weights", "config")}


def model_input(wc):
    """The trained model's files for the Grad methods; authors' models load from their cache."""
    if wc.ds in TRAINED and METHOD_NEEDS_MODEL.get(wc.method, False):
        return trained_model_files(wc.ds)
    return {}


# ---- audit stage helpers ----
def battery(ds, key):
    """A battery setting: the data set's own, else the config's, else the default."""
    own = config["datasets"][ds].get("battery", {}) if ds is not None else {}
    if key in own:
        return own[key]
    return config.get("battery", {}).get(key, schema_defaults("$defs", "battery")[key])


def detect_groups(ds):
    """(job name tag, methods) of the Table 2 jobs of one data set at each size;
    one job for every method (``per_size``) or one per method (``per_method``)."""
    if battery(ds, "detect_jobs") == "per_method":
        return [(f"_{me}", [me]) for me in methods_for(ds)]
    return [("", methods_for(ds))]


def audit_seed(ds, *parts):
    """A seed per data set and purpose, stable across runs."""
    import zlib

    return (dataset_seed(ds) + zlib.crc32("/".join(map(str, parts)).encode())) % (2**31)


def sizes_of(ds):
    return [int(m) for m in config["datasets"][ds]["sizes"]]


def fairest_methods(ds):
    chosen = battery(ds, "fairest_methods")
    return [m for m in methods_for(ds) if chosen is None or m in chosen]


def fig8_datasets():
    return [ds for ds in battery(None, "fig8_datasets") if ds in DATASETS]


def fig8_sizes(ds):
    return [catalogue.sample_size(f, n_audit(ds)) for f in battery(ds, "fig8_fractions")]


def fig8_methods(ds):
    return [m for m in battery(ds, "fig8_methods") if m in methods_for(ds)]


def audit_model_input(ds, methods):
    """The trained model's files when a Grad method is among ``methods``."""
    if ds in TRAINED and any(METHOD_NEEDS_MODEL.get(m, False) for m in methods):
        return trained_model_files(ds)
    return {}


def model_params(ds):
    spec = dataset_spec(ds)
    return {"source": spec["source"], "authors_name": spec["params"].get("dataset", ds),
            "authors_dir": authors_dir(), "hub_revision": config.get("hub_revision")}


def audit_outputs():
    """Targets of the audit stage (for all_outputs())."""
    out = [f"results/tables/{t}.{ext}" for t in ("detection", "fairest", "fairest_no_mmd", "reference_thresholds")
           for ext in ("csv", "md", "tex")]
    if fig8_datasets():
        out += [f"results/tables/sample_size.{ext}" for ext in ("csv", "md", "tex")]
    return out


def shift_curve_spec():
    """The `shift_curve` block with the schema's defaults filled in (None: no Fig. 7)."""
    if "shift_curve" not in config:
        return None
    own = config["shift_curve"]
    spec = {**schema_defaults("$defs", "shift_curve"), **own}
    spec["model"] = {**schema_defaults("$defs", "shift_curve", "properties", "model"), **own.get("model", {})}
    chosen = own.get("methods", config.get("methods", DEFAULT_METHODS))
    spec["methods"] = [m for m in METHOD_NAMES if m in chosen]
    return _canonical(spec)


def target_di():
    return float(config["target_di"])


def master_seed():
    return int(config["seed"])


def n_audit(ds):
    return int(config["datasets"][ds]["n_audit"])


def hub_revision():
    return config.get("hub_revision")


# ---- counterfactual stage helpers ----
def counterfactual_spec(ds):
    """The data set's optional `counterfactual` block (None when absent)."""
    return dataset_spec(ds).get("counterfactual")


# ---- protocol comparison helpers (workflow/rules/protocols.smk) ----
def protocol_reference_sizes(ds):
    """Every size of `ds` with reference thresholds: the tables' and, on Fig. 8's sets, Fig. 8's."""
    return sorted(set(sizes_of(ds)) | (set(fig8_sizes(ds)) if ds in fig8_datasets() else set()))


def protocol_detections(ds):
    """Table 2's jobs of `ds`: the frames, the manipulations they sampled and their seeds."""
    return [{"method": me, "m": m,
             "parquet": str(store.path("detection", "parquet", ds=ds, method=me, m=m)),
             "manipulated": str(store.path("manipulation", "parquet", ds=ds, method=me)),
             "summary": str(store.path("manipulation", "json", ds=ds, method=me)),
             "seed": audit_seed(ds, "detect", me, m)}
            for me in methods_for(ds) for m in sizes_of(ds)]


# ---- replicates helpers (workflow/rules/replicates.smk; issue 21) ----
def replicates_spec():
    """The `replicates` block with the schema's defaults filled in."""
    return {**schema_defaults("$defs", "replicates"), **config.get("replicates", {})}


def _replicate_sets(key):
    chosen = replicates_spec()[key]
    unknown = [ds for ds in (chosen or []) if ds not in config["datasets"]]
    if unknown:
        raise ValueError(f"replicates.{key} names {unknown}, which are not in datasets {sorted(config['datasets'])}")
    return [ds for ds in DATASETS if chosen is None or ds in chosen]


def replicate_datasets():
    """Data sets whose fairest search is replicated (none when `replicates.k` is 0)."""
    return _replicate_sets("datasets") if replicates_spec()["k"] > 0 else []


def replicate_methods(ds):
    """Methods replicated on `ds`: the chosen ones among its fairest methods (default: no Grad)."""
    chosen = replicates_spec()["methods"]
    return [m for m in fairest_methods(ds)
            if (m in chosen if chosen is not None else not METHOD_NEEDS_MODEL[m])]


def replicate_ks():
    return list(range(int(replicates_spec()["k"])))


def replicate_seed(ds, method, k):
    """Replicate 0 is the main fairest run's seed (its cell is one of the K); the others derive from (ds, method, k)."""
    return dataset_seed(ds) if int(k) == 0 else audit_seed(ds, "replicate", method, int(k))


def reference_replicate_datasets():
    """Data sets of the reference-threshold spread (none when `replicates.reference_k` is 0)."""
    if replicates_spec()["reference_k"] == 0:
        return []
    spec = replicates_spec()
    key = "reference_datasets" if spec["reference_datasets"] is not None else "datasets"
    return _replicate_sets(key)


def reference_replicate_rs():
    return list(range(int(replicates_spec()["reference_k"])))


def reference_replicate_seed(ds, m, r):
    """Set 0 is the main reference's seed; the others derive from (ds, m, r)."""
    return audit_seed(ds, "reference", m) if int(r) == 0 else audit_seed(ds, "reference_replicate", m, int(r))


def reference_replicate_file(ds, m, r):
    """Set 0 is the main reference file (no second computation); the others their own file."""
    if int(r) == 0:
        return str(store.path("reference", "json", ds=ds, m=m))
    return str(store.path("reference_replicate", "json", ds=ds, m=m, r=r))


def cap_replicate_datasets():
    """Data sets of the cell-cap spread (none when `replicates.cap_k` is 0)."""
    return _replicate_sets("cap_datasets") if replicates_spec()["cap_k"] > 0 else []


def cap_replicate_sets(ds):
    """(m, r, seed) of each set of cell-test draws of `ds`: the reference replicates' seeds."""
    return [(m, r, reference_replicate_seed(ds, m, r)) for m in sizes_of(ds)
            for r in range(int(replicates_spec()["cap_k"]))]


def cap_replicate_files():
    """The `cap_replicates` file of each data set of the cell-cap spread."""
    return [str(store.path("cap_replicates", "parquet", ds=ds)) for ds in cap_replicate_datasets()]


def replicates_outputs():
    """Targets of the replicates stage (for all_outputs())."""
    out = []
    if cap_replicate_datasets():
        out += [str(store.path("table", ext, name="replicates_caps")) for ext in ("csv", "md", "tex")]
        out += [str(store.path("figure", ext, name="replicates_caps")) for ext in ("png", "pdf")]
    if replicate_datasets():
        out += [str(store.path("table", ext, name="replicates")) for ext in ("csv", "md", "tex")]
        out += [str(store.path("figure", ext, name=f"replicates_{ds}")) for ds in replicate_datasets()
                for ext in ("png", "pdf")]
    if reference_replicate_datasets():
        out += [str(store.path("table", ext, name="replicates_reference")) for ext in ("csv", "md", "tex")]
    return out
