// Parses each ```mermaid block of a Markdown file with mermaid itself (the library GitHub renders
// with), under jsdom for the DOM its sanitiser needs. Prints [{index, type, error}] as JSON.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const { window } = new JSDOM("");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

const markdown = readFileSync(process.argv[2], "utf8");
const blocks = [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
const results = [];
for (const [index, text] of blocks.entries()) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ index, type: parsed.diagramType, error: null });
  } catch (error) {
    results.push({ index, type: null, error: String(error.message ?? error).split("\n").slice(0, 4).join(" ") });
  }
}
console.log(JSON.stringify(results));
