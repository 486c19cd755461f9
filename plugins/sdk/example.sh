#!/usr/bin/env bash
# A complete Lifeboat plugin in bash and jq, written by hand to show protocol
# v1 (docs/plugins.md) without the C++ SDK. Install it as an executable named
# like the plugin ("example") in a plugins directory.
#
# Try it:
#   echo '{"v":1,"op":"describe"}' | ./example.sh
#   echo '{"v":1,"op":"run","action":"echo","params":{"message":"hi"}}' | ./example.sh
#
# The protocol in one breath: read ONE JSON object from stdin; write JSON
# lines to stdout ({"progress":...} any number of times, then exactly one
# {"ok":true,...} or {"ok":false,"error":...,"hint":...}); logs go to stderr;
# exit 0 only with ok:true, 1 when the action failed, 2 when the request was
# refused before anything happened.
set -uo pipefail
export LC_ALL=C # byte lengths below, whatever the caller's locale

readonly max_request_bytes=$((4 * 1024 * 1024))

# Logs go to stderr: the agent keeps them, stdout is only protocol.
log() { printf 'example: %s\n' "$*" >&2; }

# answer_error STATUS ERROR [HINT]: the final line for a failure, then exit.
answer_error() {
  log "$2"
  jq -cn --arg error "$2" --arg hint "${3:-}" \
    'if $hint == "" then {ok: false, error: $error} else {ok: false, error: $error, hint: $hint} end'
  exit "$1"
}

progress() { jq -cn --arg text "$1" '{progress: $text}'; }

# Reads at most the cap plus one byte, so an oversized request is detected
# without reading it all.
request=$(head -c $((max_request_bytes + 1)))
if ((${#request} > max_request_bytes)); then
  answer_error 2 "invalid request: larger than $max_request_bytes bytes"
fi

# Exactly one JSON value, and it is an object.
if ! jq -e -s 'length == 1 and (.[0] | type) == "object"' <<<"$request" >/dev/null 2>&1; then
  answer_error 2 "invalid request: stdin is not one JSON object" \
    'send one JSON request object, e.g. {"v":1,"op":"describe"}'
fi

field() { jq -c "$1" <<<"$request"; }

if [[ $(field '.v') != 1 ]]; then
  answer_error 2 "invalid request: protocol version $(field '.v') is not supported" \
    'this plugin speaks protocol v1 only; send "v":1'
fi

op=$(jq -r '.op // "" | tostring' <<<"$request")
case $op in
  describe)
    # The schema validate checks runbooks against: one action, one param.
    jq -cn '{
      ok: true,
      plugin: {
        name: "example",
        version: "1.0.0",
        description: "Echoes a message back: the protocol written by hand.",
        target: {params: {}},
        actions: {
          echo: {
            description: "Returns `message` as the output `message`.",
            params: {
              message: {type: "string", required: true, secret: false,
                        description: "Text to echo."}
            },
            outputs: {message: "The message, unchanged."},
            probe: false,
            measures_rpo: false
          }
        }
      }
    }'
    exit 0
    ;;
  run) ;;
  check)
    # check may only run probe actions, which read and never change state.
    answer_error 2 "invalid request: op check runs only probe actions, and 'echo' is not a probe" \
      'this plugin has no probe actions; use op run'
    ;;
  *)
    answer_error 2 "invalid request: unknown op '$op'" "'op' is one of describe, run, check"
    ;;
esac

action=$(jq -r '.action // "" | tostring' <<<"$request")
if [[ $action != echo ]]; then
  answer_error 2 "invalid request: plugin example has no action '$action'" \
    'actions of plugin example: echo'
fi

for member in target params context; do
  if [[ $(jq -r --arg m "$member" '.[$m] // {} | type' <<<"$request") != object ]]; then
    answer_error 2 "invalid request: '$member' must be an object"
  fi
done

# Parameters: reject unknown names, require `message`, check its type.
unknown=$(jq -r '.params // {} | keys[] | select(. != "message")' <<<"$request" | head -n 1)
if [[ -n $unknown ]]; then
  answer_error 2 "invalid request: action 'echo': unknown param '$unknown' (did you mean 'message'?)" \
    "action 'echo' takes: message (string, required)"
fi
if [[ $(jq -r '.params.message | type' <<<"$request") != string ]]; then
  if [[ $(jq -r '.params | has("message")' <<<"$request" 2>/dev/null) != true ]]; then
    answer_error 2 "invalid request: action 'echo': missing required param 'message' (a string)" \
      "action 'echo' takes: message (string, required)"
  fi
  answer_error 2 "invalid request: action 'echo': 'message' must be a string" \
    "action 'echo' takes: message (string, required)"
fi

step=$(jq -r '.context.step // "?" | tostring' <<<"$request")
drill=$(jq -r '.context.drill // false | tostring' <<<"$request")
log "running echo for step $step (drill: $drill)"

progress "echoing $(jq '.params.message | utf8bytelength' <<<"$request") bytes"
# The message goes from the request to the answer inside jq, so it keeps
# every character (a shell variable would lose trailing newlines).
jq -c '{ok: true, outputs: {message: .params.message}, measurements: {}}' <<<"$request"
exit 0
