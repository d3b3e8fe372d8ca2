# cmake -DBATON=path/to/baton -DOUT=dir -P gendocs.cmake: the man page and the completion scripts
# the binary generates from its command table (baton help --man, baton completion SHELL).
file(MAKE_DIRECTORY ${OUT}/man ${OUT}/completions)
foreach(pair "help;--man;man/baton.1" "completion;bash;completions/baton"
             "completion;zsh;completions/_baton" "completion;fish;completions/baton.fish")
  list(GET pair 0 cmd)
  list(GET pair 1 arg)
  list(GET pair 2 file)
  execute_process(COMMAND ${BATON} ${cmd} ${arg} OUTPUT_FILE ${OUT}/${file} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "baton ${cmd} ${arg} failed (${rc})")
  endif()
endforeach()
