import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";

/**
 * The Scalar build that the page loads. @scalar/hono-api-reference 0.9.48 only writes the HTML and
 * points it at the newest bundle on a CDN; this is the @scalar/api-reference release built against
 * the same @scalar/types (0.6.10), pinned in package.json and served by the store itself, so the
 * page works with no network beyond the store.
 */
const BUNDLE_SPECIFIER = "@scalar/api-reference/browser/standalone.js";

export interface DocsOptions {
  /** Where the page fetches the OpenAPI document, e.g. "/openapi.json". */
  specUrl: string;
  pageTitle?: string;
}

interface Bundle {
  plain: Uint8Array<ArrayBuffer>;
  gzipped: Uint8Array<ArrayBuffer>;
}

/**
 * Finds the bundle in node_modules next to this package at run time (from src/ in tests and from
 * the bundled dist/main.js alike) and reads its version, which goes into the asset URL.
 * Throws at start-up, not on the first visitor, when the package is missing.
 */
function locateBundle(): { path: string; version: string } {
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve(BUNDLE_SPECIFIER);
  } catch (err) {
    throw new Error(
      `docs: cannot find ${BUNDLE_SPECIFIER} (is @scalar/api-reference installed? run pnpm install): ${(err as Error).message}`,
    );
  }
  // <package>/dist/browser/standalone.js; the package does not export its package.json.
  const manifest = JSON.parse(readFileSync(join(dirname(path), "..", "..", "package.json"), "utf8")) as {
    version?: unknown;
  };
  return { path, version: typeof manifest.version === "string" ? manifest.version : "unknown" };
}

/** `GET /docs` (the API reference page) and `GET /docs/assets/…` (its script), no CDN involved. */
export function docsRoutes(options: DocsOptions): Hono {
  const { path, version } = locateBundle();
  // The file name carries the version, so browsers may keep it for good.
  const bundleRoute = `/docs/assets/scalar-api-reference-${version}.js`;
  let bundle: Promise<Bundle> | undefined;
  // Read and gzipped once, on the first request for it; a failed read is tried again next time.
  const loadBundle = () => {
    bundle ??= (async () => {
      // Copied into plain ArrayBuffers: Buffers may sit in Node's shared pool.
      const plain = new Uint8Array(await readFile(path));
      return { plain, gzipped: new Uint8Array(await promisify(gzip)(plain)) };
    })().catch((err: unknown) => {
      bundle = undefined;
      throw err;
    });
    return bundle;
  };

  const app = new Hono();
  app.get(
    "/docs",
    Scalar({
      url: options.specUrl,
      cdn: bundleRoute,
      pageTitle: options.pageTitle ?? "viper-store API",
      // Offline means offline: no web fonts from fonts.scalar.com, no telemetry, no AI agent.
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      // The Share / Deploy toolbar offers scalar.com services; people reading the store's API need none.
      showDeveloperTools: "never",
    }),
  );
  app.get(bundleRoute, async (c) => {
    const { plain, gzipped } = await loadBundle();
    const useGzip = /\bgzip\b/.test(c.req.header("Accept-Encoding") ?? "");
    const headers: Record<string, string> = {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=31536000, immutable",
      Vary: "Accept-Encoding",
    };
    if (useGzip) headers["Content-Encoding"] = "gzip";
    return c.body(useGzip ? gzipped : plain, 200, headers);
  });
  return app;
}
