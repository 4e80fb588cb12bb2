"""Interactive controls that also work in the static HTML book.

The book's pages have no kernel, so a control that recomputes in Python would move and change
nothing there. :func:`frame_slider` pre-renders one figure per setting and links a slider to a
stack of images *in the browser* (``jslink``): in JupyterLab and in the HTML book alike, moving
the slider shows the figure for that setting.
"""
import base64
import html
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt


def figure_png(fig):
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def frame_slider(draw, values, description, alt, value=None, format=str):
    """A slider over ``values`` showing ``draw(v)`` (a matplotlib figure) for each value v.

    alt: the alternative text of each frame, a string or a function of v, for readers who cannot
    see the figure. Returns a VBox(slider, stack of images). Every figure is drawn once, up front.
    """
    values = list(values)
    describe = alt if callable(alt) else (lambda v: alt)
    frames = []
    for v in values:
        data = base64.b64encode(figure_png(draw(v))).decode("ascii")
        frames.append(widgets.HTML(f'<img src="data:image/png;base64,{data}" '
                                   f'alt="{html.escape(describe(v))}" style="max-width: 100%">'))
    index = 0 if value is None else values.index(value)
    stack = widgets.Stack(frames, selected_index=index)
    slider = widgets.SelectionSlider(
        options=[(format(v), i) for i, v in enumerate(values)], index=index,
        description=description, style={"description_width": "initial"},
        layout=widgets.Layout(width="28em"))
    widgets.jslink((slider, "index"), (stack, "selected_index"))
    return widgets.VBox([slider, stack])
