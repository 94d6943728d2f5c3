// Per-image stages under mpirun (make_proposals, segment, train_prm's pseudo masks and
// PRM baseline): the images split over the job's ranks, no communication while they work,
// then rank 0 joins their outputs into the files one process writes (data/shard_files.h,
// which checks that every image was covered exactly once).
//
//   mpirun -np 4 segment --model runs/maskrcnn --annotations val.json --images I --out seg
//
// Rank r of W takes, of the images the user's `--shard i/n` leaves (0/1: all of them), the
// positions p of the whole list with p % (n W) == i + n r. Those satisfy p % n == i, and
// over r = 0 .. W-1 they partition i/n's images: a job is the same as W --shard processes.
#pragma once

#include <functional>
#include <string>

#include "distributed/communicator.h"
#include "proposals/shard.h"

namespace wise {

// Rank `rank` of `world_size`'s part of `requested`; and this rank's of `job` (the
// whole of `requested` when `job` is null or of one process).
proposals::Shard rank_shard(const proposals::Shard& requested, int rank, int world_size);
proposals::Shard rank_shard(const proposals::Shard& requested, const distributed::Communicator* job);

// Runs `work` (this rank's shard), then returns once every rank has finished its own. An
// exception on a rank is rethrown there, and every other rank throws too ("1 of 2 ranks
// failed in <stage>; its error is on its stderr"): no rank waits for one that died in its
// shard, and rank 0 never joins a partial output. `job` null: just `work`.
void run_rank_shard(distributed::Communicator* job, const char* stage, const std::function<void()>& work);

// "<stem>.rank-<r>-of-<W><extension>" of `path`: where rank r of W writes its shard's
// output (a file or a folder) before rank 0 joins them and removes it.
std::string rank_shard_path(const std::string& path, int rank, int world_size);

}  // namespace wise
