# Man pages generated from a program's --help by Debian's help2man (installed by packaging/install-deps.sh),
# for `cmake --install` and the .deb. Without help2man the pages are skipped, not an error.
find_program(LOWLIGHT_HELP2MAN help2man)
find_program(LOWLIGHT_GZIP gzip)
if(NOT LOWLIGHT_HELP2MAN OR NOT LOWLIGHT_GZIP)
  message(STATUS "help2man or gzip not found (apt-get install help2man): no man pages")
  set(LOWLIGHT_HELP2MAN "")
endif()

# lowlight_man_page(<target> "<one-line description>" [<subcommand>...]): <target>.1 from `<target> --help`,
# with a section per subcommand from `<target> <subcommand> --help`, installed gzipped as Debian wants.
function(lowlight_man_page target description)
  if(NOT LOWLIGHT_HELP2MAN)
    return()
  endif()
  set(page ${CMAKE_CURRENT_BINARY_DIR}/${target}.1)
  set(include ${CMAKE_CURRENT_BINARY_DIR}/${target}.h2m)
  add_custom_command(OUTPUT ${page} ${page}.gz
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> "-DSUBCOMMANDS=${ARGN}" -DINCLUDE=${include}
            -P ${PROJECT_SOURCE_DIR}/packaging/manpage-sections.cmake
    COMMAND ${LOWLIGHT_HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
            --name=${description} --include=${include} --output=${page} $<TARGET_FILE:${target}>
    COMMAND ${LOWLIGHT_GZIP} -n -9 -f -k ${page}
    DEPENDS ${target} ${PROJECT_SOURCE_DIR}/packaging/manpage-sections.cmake
    COMMENT "Man page ${target}.1 (help2man)"
    VERBATIM)
  add_custom_target(${target}-man ALL DEPENDS ${page}.gz)
  install(FILES ${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endfunction()
