#!/bin/sh
# The house's arrows (ARCHITECTURE.md "Folders"): core/ includes nothing of ours; kernels/ and
# io/ include only core/ (and kernels/cuda the CPU stages it takes its numbers from); in
# pipeline/ only the CUDA chain and backend selection name the CUDA backend, so the runtime
# drives every chain through SignalChain. Prints every offending line; exit 1 if any.
cd "${1:?source dir}" || exit 2
bad=0
report() {
  if [ -n "$2" ]; then
    echo "$1:"
    echo "$2"
    bad=1
  fi
}
report "core/ includes something of ours" \
  "$(grep -rn '#include "\(kernels\|io\|pipeline\|bench\|tests\)/' core)"
report "kernels/ or io/ includes pipeline/" \
  "$(grep -rn '#include "pipeline/' kernels io)"
report "kernels/cpu/ includes io/ or kernels/cuda/" \
  "$(grep -rn '#include "\(io\|kernels/cuda\)/' kernels/cpu)"
report "pipeline/ names the CUDA backend outside the CUDA chain and backend selection" \
  "$(grep -rln 'RADARPIPE_HAVE_CUDA\|CudaChain\|kernels/cuda/' pipeline |
     grep -v '^pipeline/chain/cuda_chain\.\(hpp\|cpp\)$\|^pipeline/chain/backend\.\(hpp\|cpp\)$\|^pipeline/CMakeLists\.txt$')"
[ "$bad" = 0 ] && echo "layout: every include points down; CUDA is named only by the CUDA chain and backend selection"
exit "$bad"
