// Layer by Layer: keyboard paths past the code cells to the interactive figures.
// Every code cell has a copy button, so a reader who tabs from the top of a chapter meets dozens of them
// before the first slider. On a page with interactive figures this adds:
// - "Skip to the interactive figures" next to the theme's "Skip to main content" (the first one Tab reaches);
// - after each figure but the last, "Skip to the next interactive figure", shown only while it has focus.
// Both move the focus to the figure's first slider, so the next arrow key changes it.
document.addEventListener("DOMContentLoaded", () => {
  const figures = [...document.querySelectorAll("figure.nbutils-interact")];
  if (!figures.length) return;
  const skipTo = (figure) => (event) => {
    event.preventDefault();
    figure.scrollIntoView({ block: "start" });
    (figure.querySelector("input") || figure).focus({ preventScroll: true });
  };
  figures.forEach((figure, i) => {
    if (!figure.id) figure.id = `interactive-figure-${i + 1}`;
    if (!figure.querySelector("input")) figure.tabIndex = -1;
  });
  const bar = document.getElementById("pst-skip-link");
  if (bar) {
    const link = document.createElement("a");
    link.href = `#${figures[0].id}`;
    link.textContent = figures.length > 1 ? `Skip to the ${figures.length} interactive figures` : "Skip to the interactive figure";
    link.addEventListener("click", skipTo(figures[0]));
    bar.append(link);
  }
  figures.slice(0, -1).forEach((figure, i) => {
    const link = document.createElement("a");
    link.className = "nbutils-skip";
    link.href = `#${figures[i + 1].id}`;
    link.textContent = "Skip to the next interactive figure";
    link.addEventListener("click", skipTo(figures[i + 1]));
    figure.after(link);
  });
});

// A wide formula or code block scrolls sideways inside the column. A keyboard user scrolls it once it has the focus,
// so it is in the Tab order exactly while it is wider than its box (MathJax's own Tab stops on every formula are
// off, see mathjax3_config in _config.yml). Checked after MathJax typesets the page, and again after a resize.
const scrollersInTabOrder = () => {
  document.querySelectorAll('mjx-container[display="true"], div.highlight > pre').forEach((el) => {
    const wide = el.scrollWidth > el.clientWidth + 1;
    if (wide && !el.hasAttribute("tabindex")) {
      el.tabIndex = 0;
      el.dataset.bookScroller = "";
    } else if (!wide && "bookScroller" in el.dataset) {
      el.removeAttribute("tabindex");
      delete el.dataset.bookScroller;
    }
  });
};
window.addEventListener("load", () => {
  const typeset = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
  (typeset || Promise.resolve()).then(scrollersInTabOrder);
});
let resizeTimer;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(scrollersInTabOrder, 200);
});
