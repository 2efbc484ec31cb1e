import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// `make bench`: the editor's figures, with the same browser settings as the tests.
export default defineConfig({ ...base, testDir: "./bench", testMatch: "**/*.bench.ts" });
