// Runs ioc-extractor (https://github.com/ninoseki/ioc-extractor) with its
// default options (strict, refang) on every corpus file that has an
// expected set, and prints {"<file>": <its output>} as JSON.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { extractIOC } from "ioc-extractor";

const dir = process.argv[2];
const out = {};
for (const name of readdirSync(dir).sort()) {
  if (!name.endsWith(".expected")) continue;
  const file = name.slice(0, -".expected".length);
  out[file] = extractIOC(readFileSync(join(dir, file), "utf8"));
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
