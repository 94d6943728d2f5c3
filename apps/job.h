// A training app's place in its data-parallel job (distributed/session.h): every rank runs
// the same command, rank 0 speaks for the job.
//
//   wise::distributed::Session session(&argc, &argv);
//   apps::speak_for_job(session);          // ranks other than 0: stdout to /dev/null
//   options.communicator = &session.communicator();
//   std::printf("... %d threads%s\n", threads, apps::job_text(session).c_str());
//
// Ranks other than 0 keep stderr, so an error on any rank is still seen.
#pragma once

#include <cstdio>
#include <string>

#include "distributed/session.h"

namespace wise::apps {

// Ranks other than 0 print nothing on stdout (their progress stream is also set to none by
// the trainers' options): one job, one report.
inline void speak_for_job(const distributed::Session& session) {
  if (session.rank() != 0) (void)std::freopen("/dev/null", "w", stdout);
}

// " per process x 2 processes (MPI (Open MPI v4.1.4))", or "" for a process alone.
inline std::string job_text(distributed::Session& session) {
  if (session.world_size() == 1) return "";
  return " per process x " + std::to_string(session.world_size()) + " processes (" +
         session.communicator().engine() + ")";
}

}  // namespace wise::apps
