# CMake package for torch_act's C++ API.
#
#   list(APPEND CMAKE_PREFIX_PATH "<torch.utils.cmake_prefix_path>" "<torch_act.cmake_prefix_path>")
#   find_package(Torch REQUIRED)
#   find_package(TorchAct REQUIRED)
#   target_link_libraries(app TorchAct::torch_act)
#
# Defines the imported target TorchAct::torch_act: include directories, the
# compiled op library (the same one Python loads), and torch. Programs keep the
# library linked through a symbol the public headers refer to
# (torch_act::detail::link_anchor), also with --as-needed.
include(CMakeFindDependencyMacro)

# This file lives in <package>/share/cmake/TorchAct/.
get_filename_component(_torch_act_root "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(_torch_act_library "${_torch_act_root}/lib/libtorch_act.so")

if(NOT EXISTS "${_torch_act_library}")
  set(TorchAct_FOUND FALSE)
  set(TorchAct_NOT_FOUND_MESSAGE
      "torch_act's op library ${_torch_act_library} is missing: build the package first "
      "(pip install --no-build-isolation -e .)")
  return()
endif()

if(NOT TARGET torch)
  find_dependency(Torch)
endif()

if(NOT TARGET TorchAct::torch_act)
  add_library(TorchAct::torch_act SHARED IMPORTED)
  set_target_properties(TorchAct::torch_act PROPERTIES
    IMPORTED_LOCATION "${_torch_act_library}"
    IMPORTED_SONAME "libtorch_act.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_torch_act_root}/include"
    # What torch_act's own headers need; torch's headers may need more, which
    # the program sets for torch (torch's target does not require it).
    INTERFACE_COMPILE_FEATURES cxx_std_17
    INTERFACE_LINK_LIBRARIES "${TORCH_LIBRARIES}")
endif()

set(TorchAct_INCLUDE_DIRS "${_torch_act_root}/include")
set(TorchAct_LIBRARY "${_torch_act_library}")
set(TorchAct_FOUND TRUE)
