# The pipeline's stage runner, sourced by scripts/run.sh.
#
#   stage NAME BUDGET_S OUTPUT [--after "A B"] [--inputs "FILE..."] [--resumable] [--always]
#         -- COMMAND...
#
# runs COMMAND as stage NAME of the run in ${run_dir}, unless it is current: its record
# ${run_dir}/stages/NAME.json holds the same key and OUTPUT exists. The key is a
# SHA-256 over the command line, the SHA-256 of every program in it (each word that is
# an executable file, inside `bash -c` strings too), of the --inputs files (weights,
# configurations) and the keys of the stages named by --after, so a changed option, a
# rebuilt binary or a re-made input re-runs the stage and everything after it, and
# nothing relies on the user deleting a stale output. An interrupted stage re-runs on the next call; --resumable stages
# (the training apps) get --resume when their output folder holds checkpoints made under
# the same key, and start from nothing when the key changed. Each record names the
# stage, its budget and the seconds it took; `stage_summary` prints them as a table.
# --always: run every time (the build: ninja itself knows what is current).
#
# Progress: every stage prints a start line and an end line with its time; the apps print
# their own progress (bars with ETA on a terminal, periodic lines otherwise).

stage_names=()

# stage_key NAME AFTER INPUTS COMMAND...: the key of a stage (stdout).
stage_key() {
  local name="$1" after="$2" inputs="$3"
  shift 3
  {
    echo "stage ${name}"
    printf '%q ' "$@"
    echo
    local word file
    local -  # set -f below stays in this function
    set -f   # no globbing of the words
    for word in $*; do  # word-split on purpose: the programs inside bash -c strings too
      file="$(command -v "${word}" 2> /dev/null || true)"
      [[ -n "${file}" && -f "${file}" && -x "${file}" ]] && sha256sum < "${file}"
    done
    for file in ${inputs}; do
      [[ -f "${file}" ]] || { echo "stages.sh: stage ${name}: input ${file} is missing" >&2; return 1; }
      sha256sum < "${file}"
    done
    local dependency
    for dependency in ${after}; do
      [[ -f "${run_dir}/stages/${dependency}.json" ]] || { echo "stages.sh: stage ${name} needs ${dependency} first" >&2; return 1; }
      sed -n 's/.*"key": *"\([0-9a-f]*\)".*/\1/p' "${run_dir}/stages/${dependency}.json"
    done
  } | sha256sum | cut -d' ' -f1
}

# The value of a string or number field of a one-line JSON record (stdout).
record_field() { sed -n "s/.*\"$2\": *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" "$1"; }

stage() {
  local name="$1" budget="$2" output="$3"
  shift 3
  local after="" inputs="" resumable=0 always=0
  while [[ "$1" != "--" ]]; do
    case "$1" in
      --after) after="$2"; shift 2 ;;
      --inputs) inputs="$2"; shift 2 ;;
      --resumable) resumable=1; shift ;;
      --always) always=1; shift ;;
      *) echo "stages.sh: stage ${name}: unknown option $1" >&2; return 2 ;;
    esac
  done
  shift
  stage_names+=("${name}")
  mkdir -p "${run_dir}/stages"
  local record="${run_dir}/stages/${name}.json" started="${run_dir}/stages/${name}.started"
  local key
  key="$(stage_key "${name}" "${after}" "${inputs}" "$@")"
  if ((!always)) && [[ -f "${record}" && -e "${output}" && "$(record_field "${record}" key)" == "${key}" ]]; then
    echo "--- ${name}: current ($(record_field "${record}" seconds) s when it ran), skipped"
    return 0
  fi
  rm -f "${record}"
  local command=("$@")
  if ((resumable)); then
    if [[ -f "${started}" && "$(cat "${started}")" == "${key}" ]] &&
      compgen -G "${output}/checkpoint-*.safetensors" > /dev/null; then
      echo "--- ${name}: resuming the interrupted run in ${output}"
      command+=(--resume)
    else
      rm -rf "${output}"  # made under other options or code: start afresh
    fi
  fi
  echo "${key}" > "${started}"
  echo "--- ${name} (budget $((budget / 60)) min $((budget % 60)) s): $(printf '%q ' "${command[@]}")"
  local start=${SECONDS} status=0
  "${command[@]}" || status=$?
  local seconds=$((SECONDS - start))
  if ((status != 0)); then
    echo "--- ${name}: FAILED (exit status ${status}) after ${seconds} s; re-run the same command to retry" >&2
    return "${status}"
  fi
  printf '{"name": "%s", "budget_s": %d, "seconds": %d, "key": "%s", "finished": "%s"}\n' \
    "${name}" "${budget}" "${seconds}" "${key}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "${record}.tmp"
  mv "${record}.tmp" "${record}"
  rm -f "${started}"
  echo "--- ${name}: done in ${seconds} s"
}

# Each stage's time beside its budget, as the report shows them.
stage_summary() {
  local name total=0 budget_total=0
  printf '\n%-22s %10s %10s\n' stage budget took
  for name in "${stage_names[@]}"; do
    local record="${run_dir}/stages/${name}.json" budget seconds
    budget="$(record_field "${record}" budget_s)"
    seconds="$(record_field "${record}" seconds)"
    total=$((total + seconds))
    budget_total=$((budget_total + budget))
    printf '%-22s %8d s %8d s%s\n' "${name}" "${budget}" "${seconds}" "$( ((seconds > budget)) && echo '  over budget')"
  done
  printf '%-22s %8d s %8d s\n' total "${budget_total}" "${total}"
}
