# SPDX-License-Identifier: MIT
# Turn the compiler's assembly of arch/x86_64/asm-offsets.c into a header:
# every "->NAME VALUE" marker becomes "#define NAME VALUE" (as Linux's
# Kbuild does).  Run as: cmake -DIN=asm-offsets.s -DOUT=asm-offsets.h -P this
file(STRINGS "${IN}" lines REGEX "->[A-Za-z_0-9]+ ")
set(out "/* Generated from hypervisor-shim/arch/x86_64/asm-offsets.c: do not edit. */\n")
string(APPEND out "#ifndef COOP_ASM_OFFSETS_H\n#define COOP_ASM_OFFSETS_H\n")
set(n 0)
foreach(line IN LISTS lines)
  if(line MATCHES "->([A-Za-z_0-9]+) \\$?(-?[0-9]+)")
    string(APPEND out "#define ${CMAKE_MATCH_1} ${CMAKE_MATCH_2}\n")
    math(EXPR n "${n} + 1")
  endif()
endforeach()
if(n EQUAL 0)
  message(FATAL_ERROR "asm-offsets: no markers found in ${IN}")
endif()
string(APPEND out "#endif\n")
file(WRITE "${OUT}.tmp" "${out}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
