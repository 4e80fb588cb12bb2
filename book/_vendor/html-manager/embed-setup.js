/*
 * Local helper for the offline book (written for this project, not part of any npm package).
 * Loaded by nb_ipywidgets_js BEFORE require.js and embed-amd.js, on pages with widget state.
 *
 * 1. embed-amd.js computes the URL of its bundled Font Awesome 5 fonts from the RequireJS URIs of
 *    the modules "@jupyter-widgets/html-manager" and "@jupyter-widgets/html-manager/dist/libembed-amd"
 *    (the only two that reference files). By default RequireJS resolves those ids against the page's
 *    own folder (".../book/@jupyter-widgets/html-manager/dist/<hash>.woff2"), which does not exist.
 *    A global `require` object defined before require.js loads is read by require.js as its
 *    configuration, so map both ids so that their URIs sit in the folder holding this file (where
 *    embed-amd.js and the .woff2 fonts are). Both modules are defined inside embed-amd.js, so
 *    RequireJS never fetches these paths; only the fonts are fetched from here.
 * 2. @jupyter-widgets/base's typeset() calls the MathJax 2 API MathJax.Hub.Queue whenever
 *    window.MathJax exists. MathJax 3 has no Hub, so every widget description threw a TypeError.
 *    Give MathJax 3 a minimal Hub.Queue that forwards ["Typeset", hub, element] jobs to
 *    MathJax.typesetPromise. MathJax is loaded with `defer`, so it exists at DOMContentLoaded;
 *    embed-amd.js renders widgets later, on the window "load" event. (With MyST's MathJax settings,
 *    widget text inside the page body is in an ignored class, so this mainly silences the errors.)
 * 3. The slider handle that noUiSlider draws (div.noUi-handle, role="slider") has no accessible
 *    name, and its aria-valuetext is the option's index ("2"), not what the readout shows ("0.5"):
 *    a screen reader says "slider, 2". axe-core reports the missing name as a serious violation
 *    (aria-input-field-name). Name each handle after its widget's description label
 *    (aria-labelledby) and copy the readout into aria-valuetext, now and whenever a widget
 *    changes.
 */
(function () {
  "use strict";
  var here = new URL(".", document.currentScript.src).href.replace(/\/$/, "");
  if (typeof window.require === "undefined") {
    window.require = {
      paths: {
        "@jupyter-widgets/html-manager": here + "/html-manager",
        "@jupyter-widgets/html-manager/dist": here,
      },
    };
  }

  var labelled = 0;
  function labelSliders(root) {
    root.querySelectorAll(".widget-slider").forEach(function (slider) {
      var label = slider.querySelector(".widget-label");
      var readout = slider.querySelector(".widget-readout");
      slider.querySelectorAll(".noUi-handle[role='slider']").forEach(function (handle) {
        if (label && label.textContent.trim() && !handle.hasAttribute("aria-labelledby")) {
          if (!label.id) {
            label.id = "widget-slider-label-" + ++labelled;
          }
          handle.setAttribute("aria-labelledby", label.id);
        }
        var text = readout ? readout.textContent.trim() : "";
        if (text && handle.getAttribute("aria-valuetext") !== text) {
          handle.setAttribute("aria-valuetext", text);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Widgets are drawn after "load"; a slider's readout and handle change while it is moved.
    new MutationObserver(function () {
      labelSliders(document);
    }).observe(document.body, { childList: true, subtree: true, characterData: true,
                                attributes: true, attributeFilter: ["aria-valuenow"] });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) {
      return; // no math on this page, MathJax 2, or not loaded
    }
    mj.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
            mj.startup.promise.then(function () {
              return mj.typesetPromise([job[2]]);
            });
          }
        });
      },
    };
  });
})();
