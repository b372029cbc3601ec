# cmake -DPROGRAM=... -DSUBCOMMANDS="a;b" -DINCLUDE=out.h2m -P manpage-sections.cmake
# Writes a help2man include file: one section per subcommand with its --help text, and the shared SEE ALSO.
set(text "")
foreach(sub IN LISTS SUBCOMMANDS)
  execute_process(COMMAND ${PROGRAM} ${sub} --help OUTPUT_VARIABLE help ERROR_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${sub} --help failed (${rc}): ${help}")
  endif()
  # CLI11 prints argv[0]: the page names the program, not the build tree it was made in.
  get_filename_component(name "${PROGRAM}" NAME)
  string(REPLACE "${PROGRAM}" "${name}" help "${help}")
  # roff: a leading dot or quote would start a request; backslashes escape.
  string(REPLACE "\\" "\\\\" help "${help}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
  string(TOUPPER "${sub}" title)
  string(APPEND text "[COMMAND ${title}]\n.nf\n${help}\n.fi\n\n")
endforeach()
string(APPEND text "[SEE ALSO]\nlowlight(1), lowlight-train(1). The GIMP filter: Filters > Enhance > Low-Light Enhance...; "
                   "its help page is /usr/share/lowlight/help/en/index.html.\n")
file(WRITE ${INCLUDE} "${text}")
