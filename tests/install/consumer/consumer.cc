// Loads the installed chip and model catalogs through fleetsim's library and
// prints one line the install test checks: "<chips> chips, <models> models,
// h100 <memory> GiB".
#include <iostream>

#include "sim/catalogs.h"

int main() {
  auto catalogs = fleetsim::sim::Catalogs::Load(FLEETSIM_DATA_DIR);
  if (!catalogs.ok()) {
    std::cerr << catalogs.status() << "\n";
    return 1;
  }
  auto h100 = (*catalogs)->ReferenceChip();
  if (!h100.ok()) {
    std::cerr << h100.status() << "\n";
    return 1;
  }
  std::cout << (*catalogs)->chips().size() << " chips, "
            << (*catalogs)->models().size() << " models, h100 "
            << (*h100)->memory_gib() << " GiB\n";
  return 0;
}
