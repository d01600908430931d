# Install rules: the library, the whole include/seqnet tree, a CMake package
# (find_package(seqnet) -> seqnet::seqnet) and seqnet.pc. The `seqnet`
# program installs itself (tools/seqnet/CMakeLists.txt).
include(CMakePackageConfigHelpers)

set(SEQNET_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/seqnet" CACHE STRING
    "Where the CMake package files go, relative to the install prefix")

install(TARGETS seqnet EXPORT seqnetTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/seqnet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# A static library's private dependencies are link dependencies of its
# consumers: seqnetConfig.cmake looks them up again only then.
get_target_property(_seqnet_type seqnet TYPE)
if(_seqnet_type STREQUAL "STATIC_LIBRARY")
  set(SEQNET_STATIC ON)
else()
  set(SEQNET_STATIC OFF)
endif()

install(EXPORT seqnetTargets NAMESPACE seqnet:: DESTINATION ${SEQNET_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/seqnetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/seqnetConfig.cmake
  INSTALL_DESTINATION ${SEQNET_INSTALL_CMAKEDIR}
  NO_SET_AND_CHECK_MACRO)
# Before 1.0 every minor release may break the API (semantic versioning's
# rule for 0.y.z), so 0.2 must not satisfy find_package(seqnet 0.1):
# SameMinorVersion, not SameMajorVersion (which would accept any 0.y).
# From 1.0 on this becomes SameMajorVersion.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_seqnet_compat SameMinorVersion)
else()
  set(_seqnet_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/seqnetConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${_seqnet_compat})
install(FILES ${PROJECT_BINARY_DIR}/seqnetConfig.cmake ${PROJECT_BINARY_DIR}/seqnetConfigVersion.cmake
  DESTINATION ${SEQNET_INSTALL_CMAKEDIR})

# seqnet.pc, relocatable: its prefix is found from the file's own place
# (${pcfiledir}), so `cmake --install --prefix DIR` needs no reconfigure.
set(_seqnet_pcdir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(SEQNET_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(SEQNET_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${_seqnet_pcdir}")
  set(SEQNET_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _seqnet_up "/${_seqnet_pcdir}" "/")
  string(REGEX REPLACE "/$" "" _seqnet_up "${_seqnet_up}")
  set(SEQNET_PC_PREFIX "\${pcfiledir}/${_seqnet_up}")
endif()
if(SEQNET_STATIC)
  set(SEQNET_PC_REQUIRES_PRIVATE "fmt openblas libzip")
  if(SEQNET_HAVE_MPI)
    string(APPEND SEQNET_PC_REQUIRES_PRIVATE " mpi-c")
  endif()
else()
  set(SEQNET_PC_REQUIRES_PRIVATE "")
endif()
# What linking needs besides -lseqnet: the static library's dependencies come
# in through Requires.private (with `pkg-config --static`); a sanitized build
# needs the sanitizer runtimes in every link, as its CMake target says.
set(SEQNET_PC_LIBS_EXTRA "")
if(SEQNET_SANITIZE)
  set(SEQNET_PC_LIBS_EXTRA " -fsanitize=address,undefined")
endif()
# A static library keeps every layer's self-registration only when the
# linker is told to keep its anchor (see SEQNET_LAYER_ANCHORS in
# CMakeLists.txt); the CMake target carries these options, seqnet.pc too.
set(SEQNET_PC_LIBS_PRE "")
if(SEQNET_STATIC)
  foreach(a ${SEQNET_LAYER_ANCHORS})
    string(APPEND SEQNET_PC_LIBS_PRE " -Wl,--undefined=${a}")
  endforeach()
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/seqnet.pc.in ${PROJECT_BINARY_DIR}/seqnet.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/seqnet.pc DESTINATION ${_seqnet_pcdir})
