import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The path and query of the newest link to `path` mailed to `email`, read from the server's
 * outbox (`DATA_DIR/outbox`, set by `make e2e`), waiting for it: mail is sent in the background.
 */
export async function mailedLink(email: string, path: string): Promise<string> {
  const outbox = process.env.E2E_OUTBOX ?? "../target/e2e-data/outbox";
  for (let i = 0; i < 100; i++) {
    let names: string[] = [];
    try {
      names = readdirSync(outbox).sort().reverse();
    } catch {
      // Not there until the first mail.
    }
    for (const name of names) {
      const text = readFileSync(join(outbox, name), "utf8");
      if (!text.includes(`\r\nTo: ${email}\r\n`)) continue;
      const line = text.split(/\r?\n/).find((l) => l.includes(`${path}?token=`));
      if (line) {
        const url = new URL(line.trim());
        return url.pathname + url.search;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail with a ${path} link to ${email} in ${outbox}`);
}
