// Request and polling snippets in cURL, JavaScript (fetch) and Python (requests), generated from
// a request body and the server's real origin and paths. Pure functions of their inputs, so what
// the page shows is exactly what the browser tests copy out and run against a live server.

export const KEY_PLACEHOLDER = "YOUR_API_KEY";
export const JOB_PLACEHOLDER = "YOUR_JOB_ID";

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A JavaScript object literal (bare keys where they are identifiers). */
export function toJs(value, level = 0, indent = "  ") {
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    const items = value.map((v) => indent.repeat(level + 1) + toJs(v, level + 1, indent));
    return `[\n${items.join(",\n")},\n${indent.repeat(level)}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return "{}";
    const items = entries.map(([k, v]) => {
      const key = IDENTIFIER.test(k) ? k : JSON.stringify(k);
      return `${indent.repeat(level + 1)}${key}: ${toJs(v, level + 1, indent)}`;
    });
    return `{\n${items.join(",\n")},\n${indent.repeat(level)}}`;
  }
  return JSON.stringify(value);
}

/** A Python literal (True/False/None; JSON string escapes are valid Python escapes). */
export function toPython(value, level = 0) {
  const indent = "    ";
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    const items = value.map((v) => indent.repeat(level + 1) + toPython(v, level + 1));
    return `[\n${items.join(",\n")},\n${indent.repeat(level)}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return "{}";
    const items = entries.map(
      ([k, v]) => `${indent.repeat(level + 1)}${JSON.stringify(k)}: ${toPython(v, level + 1)}`,
    );
    return `{\n${items.join(",\n")},\n${indent.repeat(level)}}`;
  }
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  return JSON.stringify(value);
}

/** Text inside a single-quoted shell word. */
function shellSingle(text) {
  return text.replaceAll("'", "'\\''");
}

/** Snippets that create jobs for ``body``. */
export function requestSnippets(origin, paths, body) {
  const url = origin + paths.generate;
  const json = JSON.stringify(body, null, 2).replaceAll("\n", "\n  ");
  const curl = [
    `curl -X POST "${url}" \\`,
    `  -H "Authorization: Bearer ${KEY_PLACEHOLDER}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '${shellSingle(json)}'`,
  ].join("\n");

  const javascript = [
    "// Node 18+, Deno or Bun: keep the key on your server (the API sends no CORS headers).",
    `const API_KEY = "${KEY_PLACEHOLDER}";`,
    "",
    `const response = await fetch("${url}", {`,
    `  method: "POST",`,
    "  headers: {",
    "    Authorization: `Bearer ${API_KEY}`,",
    `    "Content-Type": "application/json",`,
    "  },",
    `  body: JSON.stringify(${toJs(body, 1)}),`,
    "});",
    "const data = await response.json();",
    "if (!data.success) {",
    "  throw new Error(`${response.status} ${data.code}: ${data.error}`);",
    "}",
    "console.log(data.job_ids, `charged ${data.credits_charged} credits`);",
  ].join("\n");

  const python = [
    "import requests",
    "",
    `API_KEY = "${KEY_PLACEHOLDER}"`,
    "",
    "response = requests.post(",
    `    "${url}",`,
    `    headers={"Authorization": f"Bearer {API_KEY}"},`,
    `    json=${toPython(body, 1)},`,
    "    timeout=30,",
    ")",
    "data = response.json()",
    `if not data["success"]:`,
    `    raise SystemExit(f"{response.status_code} {data['code']}: {data['error']}")`,
    `print(data["job_ids"], f"charged {data['credits_charged']} credits")`,
  ].join("\n");
  return { curl, javascript, python };
}

/** Snippets that poll one job until it is completed or failed (every 3 s, up to 10 minutes). */
export function pollingSnippets(origin, paths) {
  const base = origin + paths.status;
  const curlUrl = base.replace("{job_id}", "$JOB_ID");
  const curl = [
    `JOB_ID="${JOB_PLACEHOLDER}"  # from job_ids in the generate response`,
    "for _ in $(seq 200); do  # every 3 s, up to 10 minutes",
    `  BODY=$(curl -s "${curlUrl}" \\`,
    `    -H "Authorization: Bearer ${KEY_PLACEHOLDER}")`,
    `  STATUS=$(printf '%s' "$BODY" | grep -o '"status": *"[a-z]*"' | head -n 1 | cut -d '"' -f 4)`,
    `  echo "status: \${STATUS:-error}"`,
    `  case "$STATUS" in`,
    `    completed|failed|"") echo "$BODY"; break ;;  # "" = an error envelope`,
    "  esac",
    "  sleep 3",
    "done",
  ].join("\n");

  const jsUrl = base.replace("{job_id}", "${jobId}");
  const javascript = [
    `const API_KEY = "${KEY_PLACEHOLDER}";`,
    `const JOB_ID = "${JOB_PLACEHOLDER}"; // from job_ids in the generate response`,
    "",
    "async function waitForJob(jobId, { intervalMs = 3000, timeoutMs = 600_000 } = {}) {",
    "  const deadline = Date.now() + timeoutMs;",
    "  while (Date.now() < deadline) {",
    `    const response = await fetch(\`${jsUrl}\`, {`,
    "      headers: { Authorization: `Bearer ${API_KEY}` },",
    "    });",
    "    const data = await response.json();",
    "    if (!data.success) throw new Error(`${response.status} ${data.code}: ${data.error}`);",
    `    if (data.job.status === "completed" || data.job.status === "failed") return data.job;`,
    "    await new Promise((resolve) => setTimeout(resolve, intervalMs));",
    "  }",
    "  throw new Error(`Job ${jobId} is still running; look it up in history later`);",
    "}",
    "",
    "const job = await waitForJob(JOB_ID);",
    "console.log(job.status, job.result_urls, job.error_message);",
  ].join("\n");

  const pyUrl = base.replace("{job_id}", "{JOB_ID}");
  const python = [
    "import time",
    "",
    "import requests",
    "",
    `API_KEY = "${KEY_PLACEHOLDER}"`,
    `JOB_ID = "${JOB_PLACEHOLDER}"  # from job_ids in the generate response`,
    "",
    "deadline = time.monotonic() + 600",
    "while True:",
    "    response = requests.get(",
    `        f"${pyUrl}",`,
    `        headers={"Authorization": f"Bearer {API_KEY}"},`,
    "        timeout=30,",
    "    )",
    "    data = response.json()",
    `    if not data["success"]:`,
    `        raise SystemExit(f"{response.status_code} {data['code']}: {data['error']}")`,
    `    job = data["job"]`,
    `    if job["status"] in ("completed", "failed"):`,
    `        print(job["status"], job["result_urls"] or job["error_message"])`,
    "        break",
    "    if time.monotonic() > deadline:",
    `        raise SystemExit("still running after 10 minutes; look it up in history later")`,
    "    time.sleep(3)",
  ].join("\n");
  return { curl, javascript, python };
}
