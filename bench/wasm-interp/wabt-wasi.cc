// wabt-wasi.cc - runs a wasm32-wasi command on wabt's interpreter (the
// engine behind wasm-interp), for the benchmark's wasm-interp column.
//
// Debian's wasm-interp is built without WASI ("wasi support not compiled
// in"), but the same interpreter ships as libwabt.a. This driver loads the
// module with it exactly as wasm-interp does and binds a minimal WASI
// preview1 of its own: arguments, an empty environment, writes to
// stdout/stderr, the clocks and proc_exit; other WASI functions answer
// ENOSYS (52). bench/build.sh builds it only when wasm-interp itself cannot
// run WASI; bench/run.sh then uses it in wasm-interp's place.
//
// usage: wabt-wasi APP.wasm [ARGS...]
//   g++ -O2 -std=c++17 wabt-wasi.cc -lwabt -o wabt-wasi

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <unistd.h>

#include "wabt/binary-reader.h"
#include "wabt/common.h"
#include "wabt/error-formatter.h"
#include "wabt/feature.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/interp/interp.h"

using namespace wabt;
using namespace wabt::interp;

namespace {

enum : u32 {
  kSuccess = 0,
  kBadf = 8,
  kFault = 21,
  kInval = 28,
  kIo = 29,
  kNosys = 52,
  kSpipe = 70,
};

struct Wasi {
  Memory::Ptr memory;
  std::vector<std::string> args;
  bool exited = false;
  int exit_code = 0;

  u8* Guest(u32 addr, u32 len) {
    if (!memory || u64{addr} + len > memory->ByteSize()) {
      return nullptr;
    }
    return memory->UnsafeData() + addr;
  }
  bool PutU32(u32 addr, u32 v) {
    u8* p = Guest(addr, 4);
    if (!p) {
      return false;
    }
    std::memcpy(p, &v, 4);  // the host is little-endian, as wasm is
    return true;
  }
  bool PutU64(u32 addr, u64 v) {
    u8* p = Guest(addr, 8);
    if (!p) {
      return false;
    }
    std::memcpy(p, &v, 8);
    return true;
  }
};

u32 ArgsSizesGet(Wasi& w, const Values& p) {
  u32 size = 0;
  for (const std::string& a : w.args) {
    size += static_cast<u32>(a.size()) + 1;
  }
  if (!w.PutU32(p[0].Get<u32>(), static_cast<u32>(w.args.size())) ||
      !w.PutU32(p[1].Get<u32>(), size)) {
    return kFault;
  }
  return kSuccess;
}

u32 ArgsGet(Wasi& w, const Values& p) {
  u32 argv = p[0].Get<u32>(), buf = p[1].Get<u32>();
  for (size_t i = 0; i < w.args.size(); i++) {
    u32 len = static_cast<u32>(w.args[i].size()) + 1;
    u8* dst = w.Guest(buf, len);
    if (!dst || !w.PutU32(argv + 4 * static_cast<u32>(i), buf)) {
      return kFault;
    }
    std::memcpy(dst, w.args[i].c_str(), len);
    buf += len;
  }
  return kSuccess;
}

u32 EnvironSizesGet(Wasi& w, const Values& p) {
  if (!w.PutU32(p[0].Get<u32>(), 0) || !w.PutU32(p[1].Get<u32>(), 0)) {
    return kFault;
  }
  return kSuccess;
}

u32 FdWrite(Wasi& w, const Values& p) {
  u32 fd = p[0].Get<u32>(), iovs = p[1].Get<u32>(), n = p[2].Get<u32>();
  if (fd != 1 && fd != 2) {
    return kBadf;
  }
  u32 total = 0;
  for (u32 i = 0; i < n; i++) {
    u8* iov = w.Guest(iovs + 8 * i, 8);
    if (!iov) {
      return kFault;
    }
    u32 base, len;
    std::memcpy(&base, iov, 4);
    std::memcpy(&len, iov + 4, 4);
    u8* data = w.Guest(base, len);
    if (!data) {
      return kFault;
    }
    while (len > 0) {
      ssize_t done = write(static_cast<int>(fd), data, len);
      if (done < 0) {
        if (errno == EINTR) {
          continue;
        }
        return kIo;
      }
      data += done;
      len -= static_cast<u32>(done);
      total += static_cast<u32>(done);
    }
  }
  return w.PutU32(p[3].Get<u32>(), total) ? kSuccess : kFault;
}

u32 FdFdstatGet(Wasi& w, const Values& p) {
  u32 fd = p[0].Get<u32>();
  if (fd > 2) {
    return kBadf;
  }
  u8* st = w.Guest(p[1].Get<u32>(), 24);
  if (!st) {
    return kFault;
  }
  std::memset(st, 0, 24);
  st[0] = 2;  // character device
  u64 rights = fd == 0 ? u64{1} << 1 : u64{1} << 6;  // fd_read / fd_write
  std::memcpy(st + 8, &rights, 8);
  return kSuccess;
}

u32 ClockTimeGet(Wasi& w, const Values& p) {
  u32 id = p[0].Get<u32>();
  if (id > 3) {
    return kInval;
  }
  static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,
                                     CLOCK_PROCESS_CPUTIME_ID,
                                     CLOCK_THREAD_CPUTIME_ID};
  timespec ts;
  if (clock_gettime(clocks[id], &ts) != 0) {
    return kInval;
  }
  u64 ns = static_cast<u64>(ts.tv_sec) * 1000000000u + static_cast<u64>(ts.tv_nsec);
  return w.PutU64(p[2].Get<u32>(), ns) ? kSuccess : kFault;
}

using Impl = u32 (*)(Wasi&, const Values&);

Impl Lookup(const std::string& name) {
  if (name == "args_sizes_get") return ArgsSizesGet;
  if (name == "args_get") return ArgsGet;
  if (name == "environ_sizes_get") return EnvironSizesGet;
  if (name == "environ_get") return [](Wasi&, const Values&) -> u32 { return kSuccess; };
  if (name == "fd_write") return FdWrite;
  if (name == "fd_fdstat_get") return FdFdstatGet;
  if (name == "fd_close") {
    return [](Wasi&, const Values& p) -> u32 { return p[0].Get<u32>() <= 2 ? kSuccess : kBadf; };
  }
  if (name == "fd_seek") {
    return [](Wasi&, const Values& p) -> u32 { return p[0].Get<u32>() <= 2 ? kSpipe : kBadf; };
  }
  if (name == "clock_time_get") return ClockTimeGet;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: wabt-wasi APP.wasm [ARGS...]\n");
    return 2;
  }
  const char* file = argv[1];
  std::vector<u8> data;
  if (Failed(ReadFile(file, &data))) {
    std::fprintf(stderr, "wabt-wasi: cannot read %s\n", file);
    return 2;
  }
  Features features;
  Store store(features);
  Errors errors;
  ModuleDesc desc;
  ReadBinaryOptions options(features, nullptr, true, true, true);
  if (Failed(ReadBinaryInterp(file, data.data(), data.size(), options, &errors, &desc))) {
    FormatErrorsToFile(errors, Location::Type::Binary);
    std::fprintf(stderr, "wabt-wasi: %s is not a valid module\n", file);
    return 2;
  }
  Module::Ptr module = Module::New(store, desc);

  Wasi wasi;
  for (int i = 1; i < argc; i++) {
    wasi.args.emplace_back(argv[i]);
  }
  RefVec imports;
  for (const ImportDesc& import : module->desc().imports) {
    const ImportType& it = import.type;
    if (it.type->kind != ExternKind::Func || it.module != "wasi_snapshot_preview1") {
      std::fprintf(stderr, "wabt-wasi: unsupported import %s.%s\n", it.module.c_str(),
                   it.name.c_str());
      return 2;
    }
    const FuncType& type = *cast<FuncType>(it.type.get());
    HostFunc::Callback cb;
    if (it.name == "proc_exit") {
      cb = [&wasi, &store](Thread&, const Values& p, Values&, Trap::Ptr* trap) {
        wasi.exited = true;
        wasi.exit_code = static_cast<int>(p[0].Get<u32>());
        *trap = Trap::New(store, "proc_exit");
        return Result::Error;
      };
    } else {
      Impl impl = Lookup(it.name);
      std::string name = it.name;
      cb = [&wasi, impl, name](Thread&, const Values& p, Values& r, Trap::Ptr*) {
        u32 err = impl ? impl(wasi, p) : u32{kNosys};
        if (r.empty()) {
          r.resize(1);
        }
        r[0] = Value::Make(err);
        return Result::Ok;
      };
    }
    imports.push_back(HostFunc::New(store, type, cb).ref());
  }

  Trap::Ptr trap;
  Instance::Ptr instance = Instance::Instantiate(store, module.ref(), imports, &trap);
  if (!instance) {
    std::fprintf(stderr, "wabt-wasi: instantiation failed: %s\n",
                 trap ? trap->message().c_str() : "?");
    return 2;
  }
  Func::Ptr start;
  const std::vector<ExportDesc>& exports = module->desc().exports;
  for (size_t i = 0; i < exports.size(); i++) {
    Ref ref = instance->exports()[i];
    if (exports[i].type.name == "memory" && exports[i].type.type->kind == ExternKind::Memory) {
      wasi.memory = store.UnsafeGet<Memory>(ref);
    } else if (exports[i].type.name == "_start" &&
               exports[i].type.type->kind == ExternKind::Func) {
      start = store.UnsafeGet<Func>(ref);
    }
  }
  if (!start || !wasi.memory) {
    std::fprintf(stderr, "wabt-wasi: %s exports no _start or no memory\n", file);
    return 2;
  }
  Values results;
  Result r = start->Call(store, {}, results, &trap);
  if (wasi.exited) {
    return wasi.exit_code;
  }
  if (Failed(r)) {
    std::fprintf(stderr, "wabt-wasi: wasm trap: %s\n", trap ? trap->message().c_str() : "?");
    return 134;
  }
  return 0;
}
