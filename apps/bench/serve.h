// The --serve loop every benchmark binary shares: the peer drivers in benchmarks/
// (conv_vs_torch.py, kernels_vs_torch.py) keep one process open and alternate our
// timings with PyTorch's in the same run, so that both see the same machine state.
//
// Protocol: one request a line on stdin, "<command> <arguments...>", one answer a line
// on stdout; "quit" or the end of input stops. A request that throws is answered
// "error <message>" and the server carries on (a bad size must not end a whole run).
// Every answer is flushed at once: the driver waits for it before its next request.
#pragma once

#include <cstdio>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>

namespace wise::bench {

// answer(command, arguments) prints the answer line for one request (or throws).
template <class Answer>
int serve_requests(const Answer& answer) {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream arguments(line);
    std::string command;
    arguments >> command;
    if (command == "quit") break;
    try {
      answer(command, arguments);
    } catch (const std::exception& error) {
      std::printf("error %s\n", error.what());
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace wise::bench
