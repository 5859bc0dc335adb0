// Parses each ```mermaid block of the Markdown files named on the command line with mermaid itself (the
// library GitHub and the docs site render with), under jsdom for the DOM its sanitiser needs.
// Prints [{file, index, type, error}] as JSON.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const { window } = new JSDOM("");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

const results = [];
for (const file of process.argv.slice(2)) {
  const markdown = readFileSync(file, "utf8");
  const blocks = [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
  for (const [index, text] of blocks.entries()) {
    try {
      const parsed = await mermaid.parse(text);
      results.push({ file, index, type: parsed.diagramType, error: null });
    } catch (error) {
      results.push({ file, index, type: null, error: String(error.message ?? error).split("\n").slice(0, 4).join(" ") });
    }
  }
}
console.log(JSON.stringify(results));
