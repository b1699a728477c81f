// Linked into the static release binary only.
//
// libstdc++'s default terminate handler prints the type of an uncaught exception, and for that
// links the whole C++ demangler (about 50 KiB of a binary with a 6 MiB budget). Nothing reaches
// terminate here: run() catches every exception and main() catches what is left. Should it ever
// happen, aborting without the message is the same outcome.
#include <cstdlib>

namespace __gnu_cxx {  // NOLINT(cert-dcl58-cpp): replacing libstdc++'s handler is the point

[[noreturn]] void __verbose_terminate_handler() {  // NOLINT(bugprone-reserved-identifier)
  std::abort();
}

}  // namespace __gnu_cxx
