# Install rules and the exported CMake package: after
#   cmake --install build --prefix PREFIX
# a project finds fleetsim with find_package(fleetsim 0.1 CONFIG) and
# CMAKE_PREFIX_PATH=PREFIX, and links fleetsim::all (or one folder's library,
# fleetsim::sim, fleetsim::planner, ...); fleetsim_DATA_DIR names the
# installed data folder and fleetsim_PROTO_DIR the .proto schemas' import
# root (fleetsim/v1/*.proto under it; for clients in other languages,
# clients/python). The `fleetsim` binary finds
# the data folder relative to itself (cli/common_flags.h), so the prefix can
# be moved. tests/install/ checks all of this from a temporary prefix.
include(CMakePackageConfigHelpers)

# Headers of every library folder (the CUDA harness and the CLI's own are
# not part of the library).
set(header_folders util hardware workloads sim economics planner report study
    service)
if(FLEETSIM_MPI)
  list(APPEND header_folders mpi)
endif()
foreach(folder ${header_folders})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/
          DESTINATION ${FLEETSIM_INSTALL_INCLUDEDIR}/${folder}
          FILES_MATCHING PATTERN "*.h"
          PATTERN "gpu_harness" EXCLUDE)
endforeach()
# The protos' C++ as include/fleetsim/v1/*.pb.h, included as
# "fleetsim/v1/x.pb.h" (fleetsim::proto's include folder is include/), and
# the schemas under their import root: share/fleetsim/proto/fleetsim/v1/.
install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/fleetsim/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fleetsim
        FILES_MATCHING PATTERN "*.pb.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/fleetsim
        DESTINATION ${FLEETSIM_INSTALL_PROTODIR}
        FILES_MATCHING PATTERN "*.proto")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/
        DESTINATION ${FLEETSIM_INSTALL_DATADIR})

install(EXPORT fleetsimTargets NAMESPACE fleetsim::
        DESTINATION ${FLEETSIM_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/fleetsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/fleetsimConfig.cmake
  INSTALL_DESTINATION ${FLEETSIM_INSTALL_CMAKEDIR}
  PATH_VARS FLEETSIM_INSTALL_DATADIR FLEETSIM_INSTALL_PROTODIR)
# 0.x: a new minor version may change the API.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/fleetsimConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fleetsimConfig.cmake
              ${PROJECT_BINARY_DIR}/fleetsimConfigVersion.cmake
        DESTINATION ${FLEETSIM_INSTALL_CMAKEDIR})
