# ctest InstallAndFindPackage (cmake -P): installs the build into a fresh
# prefix, builds tests/install/consumer against it with find_package(fleetsim),
# runs it, and runs the installed `fleetsim` from outside the source tree to
# check that it reads the installed data folder (a chip added only there must
# be listed). Arguments: -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR= -DGENERATOR=
foreach(arg BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${arg})
    message(FATAL_ERROR "install_test.cmake: -D${arg}= is required")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code
                  OUTPUT_VARIABLE out ERROR_VARIABLE err
                  WORKING_DIRECTORY ${WORK_DIR})
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "failed (${code}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The package and its version file are there; a newer minor is refused.
foreach(file lib/cmake/fleetsim/fleetsimConfig.cmake
             lib/cmake/fleetsim/fleetsimConfigVersion.cmake
             lib/cmake/fleetsim/fleetsimTargets.cmake bin/fleetsim
             include/fleetsim/sim/catalogs.h include/fleetsim/v1/chip.pb.h
             share/fleetsim/data/chips/h100.txtpb
             share/fleetsim/proto/fleetsim/v1/planning_service.proto)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer
    -B ${WORK_DIR}/consumer -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer)
if(NOT out MATCHES "^[0-9]+ chips, [0-9]+ models, h100 80 GiB")
  message(FATAL_ERROR "consumer printed: ${out}")
endif()
message(STATUS "consumer: ${out}")

# The installed binary reads the installed data, not the source tree's.
file(READ ${prefix}/share/fleetsim/data/chips/h100.txtpb h100)
string(REPLACE "name: \"h100\"" "name: \"installed_only\"" probe "${h100}")
file(WRITE ${prefix}/share/fleetsim/data/chips/installed_only.txtpb "${probe}")
run(${CMAKE_COMMAND} -E env --unset=FLEETSIM_DATA_DIR
    ${prefix}/bin/fleetsim catalog chips)
if(NOT out MATCHES "installed_only")
  message(FATAL_ERROR "installed fleetsim did not read its own data:\n${out}")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
