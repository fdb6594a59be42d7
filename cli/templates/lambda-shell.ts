// `kiln init --runtime lambda-shell`: a bash custom runtime in the manner of AWS's tutorial:
// bootstrap loops on the Runtime API and calls the handler function from function.sh.
import { file, type TemplateFiles } from './types.js';

const BOOTSTRAP = `#!/bin/bash
# A Lambda custom runtime in bash. _HANDLER is file.function (default function.handler):
# function.sh is sourced and handler is called with each event; what it prints is the answer.
set -euo pipefail
cd "\${LAMBDA_TASK_ROOT:-/var/task}"
spec="\${_HANDLER:-function.handler}"
source "./\${spec%%.*}.sh"
api="http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"

while true; do
  headers="$(mktemp)"
  event="$(curl -sS -D "$headers" "$api/invocation/next")"
  id=""
  # The request id, read with bash builtins (the base image has grep and sed too, but this
  # loop runs once per event and needs no other process).
  while IFS= read -r line; do
    line="\${line%$'\\r'}"
    case "\${line,,}" in
      lambda-runtime-aws-request-id:*) id="\${line#*:}"; id="\${id// /}" ;;
    esac
  done < "$headers"
  rm -f "$headers"
  if response="$("\${spec#*.}" "$event")"; then
    # On stdin, not as an argument: an answer over the kernel's argument limit (~128 KiB)
    # would fail to start curl ("Argument list too long").
    printf '%s' "$response" | curl -sS -X POST "$api/invocation/$id/response" --data-binary @- >/dev/null
  else
    curl -sS -X POST "$api/invocation/$id/error" -H 'Lambda-Runtime-Function-Error-Type: Unhandled' \\
      --data-binary '{"errorMessage":"the handler failed","errorType":"HandlerError"}' >/dev/null
  fi
done
`;

const FUNCTION_SH = `# The handler: $1 is the event (the invoke's body); stdout is the answer, stderr the log.
handler () {
  local event="$1"
  echo "event of \${#event} bytes" >&2
  printf '{"message":"Hello from bash","length":%d}' "\${#event}"
}
`;

export function lambdaShellTemplate(_name: string): TemplateFiles {
  return { bootstrap: file(BOOTSTRAP, 0o755), 'function.sh': file(FUNCTION_SH) };
}
