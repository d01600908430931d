// libFuzzer target for the comparison in fuzz/peer/compare_hdf5.sh: Debian's
// libhdf5 (the C library behind h5py) opening arbitrary bytes as a file
// image and walking it as fuzz/fuzz_hdf5.cpp walks seqnet's reader: every
// link, every attribute read, every dataset read as float (datasets and
// attributes over 64 MiB are skipped, as a bounded loader would). libhdf5
// reporting an error is fine; a crash, a sanitizer report, a hang or a huge
// allocation is a finding. Not part of the project's build.

#include <hdf5.h>
#include <hdf5_hl.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

constexpr hsize_t kMaxBytes = hsize_t{64} << 20;

void read_attribute(hid_t obj, const char* name) {
  const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return;
  const hid_t t = H5Aget_type(a);
  const hid_t s = H5Aget_space(a);
  const hssize_t n = H5Sget_simple_extent_npoints(s);
  if (t >= 0 && n >= 0) {
    const size_t width = H5Tget_size(t);
    if (width > 0 && static_cast<hsize_t>(n) * width <= kMaxBytes) {
      std::vector<char> buf(static_cast<size_t>(n) * width + 16);
      if (H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
        std::vector<char*> strs(static_cast<size_t>(n) + 1);
        if (H5Aread(a, t, strs.data()) >= 0) H5Dvlen_reclaim(t, s, H5P_DEFAULT, strs.data());
      } else {
        H5Aread(a, t, buf.data());
      }
    }
  }
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
}

herr_t each_attribute(hid_t obj, const char* name, const H5A_info_t*, void*) {
  read_attribute(obj, name);
  return 0;
}

herr_t each_link(hid_t g, const char* name, const H5L_info_t*, void*) {
  const hid_t o = H5Oopen(g, name, H5P_DEFAULT);
  if (o < 0) return 0;
  hsize_t idx = 0;
  H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, each_attribute, nullptr);
  if (H5Iget_type(o) == H5I_DATASET) {
    const hid_t s = H5Dget_space(o);
    const hssize_t n = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    if (n >= 0 && static_cast<hsize_t>(n) * 4 <= kMaxBytes) {
      std::vector<float> buf(static_cast<size_t>(n) + 1);
      H5Dread(o, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
    }
    if (s >= 0) H5Sclose(s);
  }
  H5Oclose(o);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  std::vector<uint8_t> copy(data, data + size);
  const hid_t f = H5LTopen_file_image(copy.data(), copy.size(), 0);
  if (f < 0) return 0;
  hsize_t idx = 0;
  H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, each_attribute, nullptr);
  H5Lvisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, each_link, nullptr);
  H5Fclose(f);
  return 0;
}
