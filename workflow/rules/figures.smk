# Figures of the paper (Figs. 4, 7, 8, 9, 11) from cached intermediates (never reruns a method).


def figure_outputs():
    """Targets of the figure stage (for all_outputs())."""
    return []
