/**
 * A TypeScript client of the DevInsider REST API (the README's "Client developers" section).
 *
 * The types come from the edge's /openapi.json (openapi-typescript, into gen/typescript/ by
 * `make ts-client`, which also compiles this file); the calls are openapi-fetch's. Against `make run`:
 *
 *   make ts-client
 *   DEVINSIDER_TOKEN=$(.venv/bin/devinsider-dev-token --sub alice --role isv --email alice@example.com) \
 *     node build/examples/typescript/profile.mjs
 *
 * It reads the caller's profile (the first call creates it), changes the job title, and reads the typed
 * google.rpc.Status details of a refused change.
 */
import createClient from "openapi-fetch";

import type { components, paths } from "../../gen/typescript/devinsider-api.js";

type Status = components["schemas"]["google.rpc.Status"];

const baseUrl = process.env.DEVINSIDER_URL ?? "http://127.0.0.1:8080";
const token = process.env.DEVINSIDER_TOKEN;

/** One line per detail a client acts on: the stable `reason` to switch on, the fields to fix, when to retry. */
function describe(status: Status): string[] {
  const lines = [`error ${status.code} ${status.message}`];
  for (const detail of status.details ?? []) {
    // `@type` narrows the union: each detail has its own fields (google/rpc/error_details.proto).
    switch (detail["@type"]) {
      case "type.googleapis.com/google.rpc.ErrorInfo":
        lines.push(`reason ${detail.reason} ${detail.domain}`);
        break;
      case "type.googleapis.com/google.rpc.BadRequest":
        for (const violation of detail.fieldViolations ?? []) {
          lines.push(`violation ${violation.field} ${violation.description}`);
        }
        break;
      case "type.googleapis.com/google.rpc.RetryInfo":
        lines.push(`retry after ${detail.retryDelay}`);
        break;
    }
  }
  return lines;
}

async function main(): Promise<number> {
  if (!token) {
    console.error("DEVINSIDER_TOKEN is not set: .venv/bin/devinsider-dev-token --sub alice --role isv ...");
    return 2;
  }
  const api = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });

  const me = await api.GET("/v1/users/me");
  if (me.error) {
    console.log(describe(me.error).join("\n"));
    return 1;
  }
  console.log(`me ${me.data.name} ${me.data.email}`);

  // Only the fields named in updateMask change; the body's type leaves every field optional.
  const updated = await api.PATCH("/v1/users/me", {
    params: { query: { updateMask: "jobTitle" } },
    body: { jobTitle: "CTO" },
  });
  if (updated.error) {
    console.log(describe(updated.error).join("\n"));
    return 1;
  }
  console.log(`updated ${updated.data.name} jobTitle=${updated.data.jobTitle}`);

  const refused = await api.PATCH("/v1/users/me", {
    params: { query: { updateMask: "countryCode" } },
    body: { countryCode: "Atlantis" },
  });
  if (refused.error) {
    console.log(`refused with HTTP ${refused.response.status}`);
    console.log(describe(refused.error).join("\n"));
  }
  return 0;
}

process.exitCode = await main();
