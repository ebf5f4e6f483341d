// Compile the NHS.UK frontend into the package's static/nhsuk, so a wheel carries it (run by `make` and by
// the wheel build; nothing here is committed).
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nhsuk = join(root, "node_modules", "nhsuk-frontend", "dist", "nhsuk");
const out = join(root, "src", "aftercrisis", "static", "nhsuk");
mkdirSync(out, { recursive: true });

const css = sass.compile(join(root, "assets", "app.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  quietDeps: true,
});
writeFileSync(join(out, "app.css"), css.css);
cpSync(join(nhsuk, "nhsuk-frontend.min.js"), join(out, "nhsuk-frontend.min.js"));
cpSync(join(root, "assets", "init.js"), join(out, "init.js"));
cpSync(join(nhsuk, "assets"), join(out, "assets"), { recursive: true });
console.log(`NHS.UK frontend compiled into ${out}`);
