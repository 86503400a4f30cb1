() => {
  // Accessibility smoke check: returns a list of problems (empty when fine).
  const problems = [];
  const named = (el) => (el.getAttribute("aria-label") || "").trim() ||
    (el.getAttribute("aria-labelledby") || "").trim() || (el.getAttribute("title") || "").trim();
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (["hidden", "submit", "button", "reset", "image"].includes(type)) continue;
    if ((el.labels && el.labels.length) || named(el)) continue;
    problems.push(`unlabelled ${el.tagName.toLowerCase()} #${el.id || el.name}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`img without alt: ${img.src}`);
  }
  for (const svg of document.querySelectorAll("svg.chart")) {
    if (svg.getAttribute("role") !== "img") problems.push("chart svg without role=img");
    if (!svg.getAttribute("aria-label")) problems.push("chart svg without aria-label");
    if (!svg.querySelector("title") || !svg.querySelector("title").textContent.trim())
      problems.push("chart svg without title");
  }
  const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")];
  const h1 = headings.filter((h) => h.tagName === "H1").length;
  if (h1 !== 1) problems.push(`${h1} h1 elements`);
  let level = 0;
  for (const h of headings) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) problems.push(`heading h${next} after h${level}: ${h.textContent.trim()}`);
    level = next;
  }
  for (const button of document.querySelectorAll("button, a")) {
    if (!button.textContent.trim() && !named(button)) problems.push(`${button.tagName} without a name`);
  }
  if (!document.documentElement.getAttribute("lang")) problems.push("html without lang");
  return problems;
}
