// The workspace lint set-up, plus what only the gateway has: a Python venv for the OpenAPI fuzz
// (ignored) and the admin page, plain browser ES modules in public/.
import globals from "globals";
import root from "../../eslint.config.js";

export default [
  { ignores: [".venv/**"] },
  ...root,
  {
    files: ["public/**/*.js"],
    languageOptions: { globals: globals.browser, sourceType: "module" },
  },
];
