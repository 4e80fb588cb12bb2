"""Interactive controls that also work in the static HTML book.

The book's pages have no kernel, so a control that recomputes in Python would move and change
nothing there. :func:`frame_slider` pre-renders one figure per setting and links a slider to a
stack of images *in the browser* (``jslink``): in JupyterLab and in the HTML book alike, moving
the slider shows the figure for that setting.
"""
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt


def figure_png(fig):
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def frame_slider(draw, values, description, value=None, format=str):
    """A slider over ``values`` showing ``draw(v)`` (a matplotlib figure) for each value v.

    Returns a VBox(slider, stack of images). Every figure is drawn once, up front.
    """
    values = list(values)
    frames = [widgets.Image(value=figure_png(draw(v)), format="png") for v in values]
    stack = widgets.Stack(frames, selected_index=0)
    slider = widgets.SelectionSlider(
        options=[(format(v), i) for i, v in enumerate(values)], description=description,
        style={"description_width": "initial"}, layout=widgets.Layout(width="28em"))
    widgets.jslink((slider, "index"), (stack, "selected_index"))
    if value is not None:
        slider.index = values.index(value)
    return widgets.VBox([slider, stack])
