// File: hardware/reference_machine.h
//
// The machine fleetsim counts in, decided here once: normalised fleet costs
// and TDPs are in machines of the reference chip (SPAD, arXiv:2510.08544
// §6, and Splitwise count H100 DGX machines), SLO slowdowns are measured on
// it unless an SLO names another chip, and a cluster or plan request that
// gives no chips per machine gets a DGX/HGX-class 8.
#ifndef FLEETSIM_HARDWARE_REFERENCE_MACHINE_H_
#define FLEETSIM_HARDWARE_REFERENCE_MACHINE_H_

namespace fleetsim::hardware {

// Catalog name of the reference chip (data/chips/h100.txtpb).
inline constexpr char kReferenceChip[] = "h100";

// Chips per machine when a config does not say: DGX H100 / HGX boards hold 8.
inline constexpr int kDefaultChipsPerMachine = 8;

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_REFERENCE_MACHINE_H_
