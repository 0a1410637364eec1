# cmake -DLUPDATE=... -DTS_FILE=... -DWORK_DIR=... -DSOURCE_DIR=... -P translations_current_test.cmake
# Runs lupdate over the console sources into a copy of TS_FILE and fails if the copy differs in
# its set of messages from the committed file, or if any message is unfinished. Comparing message
# sets (not bytes) keeps the check independent of lupdate's formatting.
foreach(var LUPDATE TS_FILE WORK_DIR SOURCE_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
get_filename_component(ts_name ${TS_FILE} NAME)
set(copy ${WORK_DIR}/${ts_name})
file(COPY_FILE ${TS_FILE} ${copy})

execute_process(
  COMMAND ${LUPDATE} -silent -no-obsolete -locations none
    -I ${SOURCE_DIR} -I ${SOURCE_DIR}/engine
    ${SOURCE_DIR}/gui ${SOURCE_DIR}/models -ts ${copy}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lupdate failed (${rc}): ${out}${err}")
endif()

# "context|source" for every message of a .ts file, sorted; and how many are not translated.
function(messages_of file out_var unfinished_var)
  file(READ ${file} text)
  # CMake list separators and brackets inside strings would split or merge list items.
  string(REPLACE ";" "%SEMICOLON%" text "${text}")
  string(REPLACE "[" "%LBRACKET%" text "${text}")
  string(REPLACE "]" "%RBRACKET%" text "${text}")
  string(REPLACE "</context>" "</context>@" text "${text}")
  string(REGEX MATCHALL "<context>[^@]*</context>" contexts "${text}")
  set(keys "")
  set(unfinished 0)
  foreach(context IN LISTS contexts)
    string(REGEX MATCH "<name>([^<]*)</name>" _ "${context}")
    set(name "${CMAKE_MATCH_1}")
    string(REPLACE "</message>" "</message>@" context "${context}")
    string(REGEX MATCHALL "<message[^@]*</message>" msgs "${context}")
    foreach(msg IN LISTS msgs)
      string(REGEX MATCH "<source>([^<]*)</source>" _ "${msg}")
      set(key "${name}|${CMAKE_MATCH_1}")
      list(APPEND keys "${key}")
      if(msg MATCHES "type=\"(unfinished|vanished|obsolete)\"")
        math(EXPR unfinished "${unfinished} + 1")
        message(STATUS "untranslated: ${key}")
      endif()
    endforeach()
  endforeach()
  list(SORT keys)
  set(${out_var} "${keys}" PARENT_SCOPE)
  set(${unfinished_var} ${unfinished} PARENT_SCOPE)
endfunction()

messages_of(${TS_FILE} committed committed_unfinished)
messages_of(${copy} current current_unfinished)
list(LENGTH committed committed_count)
list(LENGTH current current_count)

set(failed FALSE)
if(NOT committed STREQUAL current)
  set(added ${current})
  list(REMOVE_ITEM added ${committed})
  set(dropped ${committed})
  list(REMOVE_ITEM dropped ${current})
  foreach(m IN LISTS added)
    message(STATUS "new in the sources: ${m}")
  endforeach()
  foreach(m IN LISTS dropped)
    message(STATUS "gone from the sources: ${m}")
  endforeach()
  set(failed TRUE)
endif()
if(current_unfinished GREATER 0)
  set(failed TRUE)
endif()
if(failed)
  message(FATAL_ERROR "${ts_name} is out of date (${committed_count} messages committed, "
    "${current_count} in the sources, ${current_unfinished} untranslated): run "
    "`cmake --build <build> --target archway_lupdate` and translate the new strings.")
endif()
message(STATUS "${ts_name}: ${current_count} messages, all translated")
