/*
 * Model of Magpie's spin-then-park protocol (runtime/idle_set.cpp, runtime/worker.cpp) with the
 * asymmetric wake barrier (include/magpie/detail/fence.hpp), the home worker's join counting
 * (include/magpie/detail/group_state.hpp), timed parks and inactive workers, checked with Spin:
 * no lost wake-up, no deadlock, no early or missed return from a group wait.
 *
 *   spin -DW=2 -DL=1 -a park_protocol.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m200000
 *   (tests/model/check.sh runs the configurations CI checks, and the seeded bugs)
 *
 * Parameters (spin -D...):
 *   W        workers (2-3)
 *   P        external producers (the injector: full fence after the publish), TASKS tasks each
 *   L        local producers (a worker pushing to its own deque: light barrier), LTASKS each
 *   G        tasks of a group made on worker 0, its home (0: no group)
 *   TIMED    every park may time out (once per worker), as in help_until / commit_park_until
 *   INACTIVE set_active_workers(W-1) then set_active_workers(W) run concurrently with the rest
 *
 * What it abstracts away:
 *  - the memory model, except for the one place where the code relies on something weaker than
 *    sequential consistency: a light producer's store. Everything else interleaves under
 *    sequential consistency, which the real code gets from seq_cst RMWs and full fences in
 *    Dekker pairs (weak-memory behaviour beyond this is left to ThreadSanitizer, the
 *    lost-wake-up probe in tests/runtime.cpp and tools/magpie-stress's watchdog);
 *  - the queues: one counter of visible tasks stands for the injector and every deque, one more
 *    for the group's tasks in the home's deque (which only the home pops and thieves steal);
 *  - timing: the spin budget is a nondeterministic number of extra looks (0 or 1), a timed park
 *    may time out at any moment, a store buffer drains at any moment;
 *  - the mutex: each atomic block that touches the sleeper list is one critical section of
 *    idle_set; the reads of the state word by a producer and the wake under the mutex are one
 *    step (the real code re-checks `searching` under the mutex, which only drops wake-ups that
 *    a searcher makes unnecessary).
 *
 * What it keeps:
 *  - the searching/sleeping counts, the sleeper list, per-worker wake tokens, the half-the-workers
 *    search limit, cancel-park after a successful re-check, the last searcher waking another
 *    when work is visible, the hand-off of searching after a same-CPU wake;
 *  - x86-TSO store buffers for light producers: the publish goes into the producer's buffer
 *    (pend[k], or gpend for the home), becomes visible at some later step (the `drain`
 *    process), is visible to the producer itself at once (store forwarding), and is drained by
 *    any locked instruction of its own (mutex, RMW, the fence in the deque's pop) and by a
 *    parker's membarrier (heavy barrier: every buffer drains at once). The producer's load of
 *    the state word may happen while its store is still buffered. A parker pays the membarrier
 *    only when its announcement leaves some worker running (neither searching nor sleeping):
 *    every other worker made an RMW on the state word since its last light push, which drained
 *    its buffer (idle_set::may_have_light_pushers). A light producer counts as running until it
 *    stops (an RMW that drains its buffer) or for good;
 *  - the group: home_pending (home only), the shared word (count and waiter bit), thieves'
 *    finish_shared (RMW, wake the waiter when the value before had the bit and count 1), the
 *    home's fold (one CAS: word += home_pending, set the bit; home_pending = 0) after it is
 *    listed with waiting_on the group, cancel-park when the fold finds the group done, and
 *    waiter_left (the CAS and the store of home_pending = 0 are one step: only the home writes
 *    home_pending, and no other thread reads it in the model). The search's own done() exit
 *    and run_until's done() check before parking are left out: the park path re-checks the
 *    group, so they only shorten the way;
 *  - timed parks: at the timeout the parker takes the mutex; still listed -> unlists itself and
 *    counts as searching; a waker unlisted it first -> it takes that wake;
 *  - inactive workers: the last worker may be made inactive (and maybe active again); it then
 *    runs only its own deque, leaves search before it parks, is listed as inactive (wakes skip
 *    it) and set_active_workers(W) wakes it. After its barrier it looks at every queue and, if
 *    it sees work, wakes an active sleeper when nobody searches, as runtime/worker.cpp's park()
 *    does; Spin rejects the form that re-checks its own deques only (BUG_INACTIVE_NO_RECHECK):
 *    the inactive worker may have been the searcher a producer counted on, and nobody else
 *    looks for that producer's task.
 *
 * Properties:
 *  - whenever the whole system is blocked (Promela's `timeout`: every worker sleeps, every
 *    producer is done, every store buffer has drained), no task is left, every task ran, and
 *    the home is not asleep in its group wait. A local producer stands for a worker that pushes
 *    and then stays busy in its task for good: it never runs its own deque again, so a task it
 *    pushed must be picked up by a sleeping worker's wake-up;
 *  - the home returns from its group wait only once every task of the group ran;
 *  - Spin reports any invalid end state (a process blocked anywhere but a parked wait).
 * Not a property: the last searcher's extra wake (leave_search) uses a full fence on its side
 * only, so against a light producer it is best effort; the model lets a searcher always come
 * back to the queues after running its task, as real tasks do.
 *
 * Seeded bugs (each must be rejected): BUG_NO_RECHECK (no re-check before sleeping),
 * BUG_LIGHT_PARKER (the parker's membarrier replaced by a fence that drains only its own
 * buffer), BUG_SKIP_IGNORES_LIGHT (the membarrier skipped when every worker process searches or
 * sleeps, forgetting the light producers that still run), BUG_TIMEOUT_DROPS_WAKE (a timed-out parker that a waker unlisted first goes on as
 * not searching), BUG_FOLD_BEFORE_LIST (the home folds and sets the waiter bit before it is
 * listed), BUG_NO_FOLD (the waiter bit without the fold of home_pending), BUG_INACTIVE_NO_RECHECK
 * (an inactive parker re-checks only its own deque), BUG_DONE_HOME_ONLY (the home's wait
 * looks at home_pending only, not at the word).
 */

#ifndef W
#define W 3
#endif
#ifndef P
#define P 0
#endif
#ifndef TASKS
#define TASKS 2
#endif
#ifndef L
#define L 0
#endif
#ifndef LTASKS
#define LTASKS 1
#endif
#ifndef G
#define G 0
#endif
#define HOME 0
#define TOTAL (P * TASKS + L * LTASKS)

byte tasks = 0;          /* visible plain tasks, not yet taken */
byte done = 0;           /* plain tasks run */
byte pend[2];            /* local producers' store buffers: pushed, not yet visible */
byte searching = 0;      /* state word, low half */
byte sleeping = 0;       /* state word, high half */
bool listed[W];          /* the sleeper list */
bool token[W];           /* per-worker futex word */
bool waiting[W];         /* parker::waiting_on == the group */
bool inactive[W];        /* parker::inactive, guarded by the mutex */
byte nactive = W;         /* idle_set::active_ */
byte lrun = L;           /* light producers still running: no RMW on the state word since their
                            last push (a worker process is running when it is counted neither
                            searching nor sleeping) */

/* the group made on the home (worker 0) */
byte gvis = 0;           /* its tasks in the home's deque, visible to thieves */
byte gpend = 0;          /* its tasks in the home's store buffer */
byte gdone = 0;          /* its tasks run */
short home_pending = 0;  /* group_state::home_pending (the home only) */
short wcount = 0;        /* group_state::word >> 1 (may go negative) */
bool wbit = false;       /* group_state::word & waiter_bit */
bool home_waiting = false; /* the home is inside its group wait */

/* wake_locked: unlist i, count it as searching, set its token. Caller holds the mutex. */
inline wake_locked(i) {
  listed[i] = false;
  sleeping--;
  searching++;
  token[i] = true
}

/* wake_one_slow's choice: any listed worker that is not inactive. Caller holds the mutex. */
inline wake_any_locked() {
  if
  :: listed[0] && !inactive[0] -> wake_locked(0)
  :: W > 1 && listed[1] && !inactive[1] -> wake_locked(1)
  :: W > 2 && listed[2] && !inactive[2] -> wake_locked(2)
  :: else -> skip
  fi
}

/* wake_if_no_searcher / wake_one_slow: wake a sleeper if nobody searches. */
inline wake_if_no_searcher() {
  atomic {
    if
    :: searching == 0 && sleeping > 0 -> wake_any_locked()
    :: else -> skip
    fi
  }
}

/* membarrier(PRIVATE_EXPEDITED): every store buffer drains. */
inline heavy_barrier() {
  atomic {
    tasks = tasks + pend[0] + pend[1];
    pend[0] = 0;
    pend[1] = 0;
    gvis = gvis + gpend;
    gpend = 0
  }
}

/* A locked instruction of worker `me` (mutex, RMW, full fence) drains its own buffer. */
inline drain_own() {
  if
  :: me == HOME -> gvis = gvis + gpend; gpend = 0
  :: else -> skip
  fi
}

/* worker `me` is beyond the active count (runtime::set_active_workers) */
#define INACTIVE_NOW (me >= nactive)

/* leave_search: stop searching (an RMW: drains our buffer); the last searcher then fences, looks
 * at every queue and wakes a sleeper if nobody searches and work is visible. */
inline leave_search() {
  atomic {
    drain_own();
    searching--;
    is_searching = false;
    last = (searching == 0)
  };
  if
  :: last && (tasks > 0 || gvis > 0) -> last = false; wake_if_no_searcher()
  :: else -> last = false
  fi
}

/* The store buffers drain at any moment, one store at a time, in order. */
proctype drain() {
end_drain:
  do
  :: atomic { pend[0] > 0 -> pend[0]--; tasks++ }
  :: atomic { pend[1] > 0 -> pend[1]--; tasks++ }
  :: atomic { gpend > 0 -> gpend--; gvis++ }
  od
}

/* An injector producer: publish; full fence; read state; wake one if nobody searches. */
proctype producer() {
  byte n = 0;
  do
  :: n < TASKS ->
     tasks++;
     wake_if_no_searcher();
     n++
  :: n == TASKS -> break
  od
}

/* A worker pushing to its own deque (wake_after_push): publish into its store buffer;
 * compiler barrier; read state, possibly before the store is visible; wake one if nobody
 * searches (wake_one_slow's mutex drains the buffer). Then it stays busy in its task for good,
 * or it stops running: its RMW on the state word (start_searching or prepare_park) drains its
 * buffer, after which parkers need not count it as running. It then leaves the model, so a
 * task it pushed must still be picked up by the others. */
proctype lproducer(byte k) {
  byte n = 0;
  do
  :: n < LTASKS ->
     pend[k]++;
     atomic {
       if
       :: searching == 0 && sleeping > 0 ->
          tasks = tasks + pend[k]; pend[k] = 0;
          wake_any_locked()
       :: else -> skip
       fi
     };
     n++
  :: n == LTASKS -> break
  od;
  if
  :: skip                                              /* busy for good */
  :: atomic { tasks = tasks + pend[k]; pend[k] = 0; lrun-- }  /* stops running */
  fi
}

proctype worker(byte me) {
  bool is_searching = false;
  byte looks;
  bool woke_beside = false;
  bool group_task = false;
  bool in_group = false;   /* the home, inside its group wait (help_until_done) */
  bool notify = false;
  bool last = false;
  bool heavy = false;
  byte n;
#ifdef TIMED
  bool may_time_out = true;
#endif

#if G > 0
  if
  :: me == HOME ->
     /* the home's task spawns G tasks of its group (add_home; push; wake_after_push)... */
     n = 0;
     do
     :: n < G ->
        home_pending++;
        gpend++;
        atomic {
          if
          :: searching == 0 && sleeping > 0 -> drain_own(); wake_any_locked()
          :: else -> skip
          fi
        };
        n++
     :: n == G -> n = 0; break
     od;
     /* ...and waits for them */
     in_group = true;
     home_waiting = true
  :: else -> skip
  fi;
#endif

loop:
#if G > 0
  /* help_until_done: the group is done once home_pending + count(word) == 0 */
  if
#ifdef BUG_DONE_HOME_ONLY
  :: in_group && home_pending == 0 -> goto group_done
#else
  :: in_group && home_pending + wcount == 0 -> goto group_done
#endif
  :: else -> skip
  fi;
#endif
  /* own deque (the pop's fence drains the own buffer), then the injector */
  atomic {
    drain_own();
    if
    :: me == HOME && gvis > 0 -> gvis--; group_task = true; goto found
    :: !INACTIVE_NOW && tasks > 0 -> tasks--; group_task = false; goto found
    :: else -> skip
    fi
  }
#ifdef INACTIVE
  if
  :: INACTIVE_NOW -> goto park   /* an inactive worker runs its own deque only */
  :: else -> skip
  fi;
#endif
  /* a worker woken beside its waker hands searching to another worker, then parks */
  if
  :: woke_beside && !is_searching ->
     woke_beside = false;
     wake_if_no_searcher();
     goto park
  :: else -> woke_beside = false
  fi;
  /* search: at most about half the workers */
  if
  :: !is_searching ->
     atomic {
       drain_own();
       if
       :: searching == 0 || 2 * searching < W -> searching++; is_searching = true
       :: else -> goto park
       fi
     }
  :: else -> skip
  fi;
  do
  :: atomic { tasks > 0 -> tasks--; group_task = false; looks = 0; goto found_searching }
  :: atomic { me != HOME && gvis > 0 -> gvis--; group_task = true; looks = 0; goto found_searching }
  :: looks < 1 -> looks++          /* spin budget not yet spent: look again */
  :: looks = 0; break              /* spin budget spent */
  od;

park:
#ifdef INACTIVE
  /* an inactive worker stops searching first, so that work goes on spreading */
  if
  :: is_searching && INACTIVE_NOW -> goto leave_then_park
  :: else -> skip
  fi;
#endif
park_prepare:
#ifdef BUG_FOLD_BEFORE_LIST
  if
  :: in_group ->
     atomic { wcount = wcount + home_pending; home_pending = 0; wbit = true; notify = (wcount == 0) };
     if
     :: notify -> notify = false; goto loop
     :: else -> skip
     fi
  :: else -> skip
  fi;
#endif
  /* prepare_park: list ourselves (inactive or not), searching -> sleeping, in one critical
   * section; its RMW drains our own buffer. From the value it leaves, may_have_light_pushers:
   * some worker (or light producer) is running, i.e. counted neither searching nor sleeping. */
  atomic {
    drain_own();
    listed[me] = true;
    token[me] = false;
    waiting[me] = in_group;
    inactive[me] = INACTIVE_NOW;
    sleeping++;
    if
    :: is_searching -> searching--; is_searching = false
    :: else -> skip
    fi;
#ifdef BUG_SKIP_IGNORES_LIGHT
    heavy = (searching + sleeping < W)   /* forgets workers that run and push */
#else
    heavy = (searching + sleeping < W || lrun > 0)
#endif
  }
#ifdef BUG_LIGHT_PARKER
  skip;                  /* a plain fence: drains only our own buffer (done above) */
#else
  /* the membarrier only while some worker runs; else a full fence (our own buffer: done) */
  if
  :: heavy -> heavy = false; heavy_barrier()
  :: else -> skip
  fi;
#endif
  /* re-check after the announcement (BUG_NO_RECHECK: no re-check) */
  if
#ifndef BUG_NO_RECHECK
  :: inactive[me] && me == HOME && gvis > 0 -> goto cancel
  :: !inactive[me] && (tasks > 0 || gvis > 0) -> goto cancel
#endif
  :: else -> skip
  fi;
#if defined(INACTIVE) && !defined(BUG_INACTIVE_NO_RECHECK)
  /* Listed as inactive: it may have been the searcher a producer counted on (its leave_search
   * is best effort against a light producer, and set_active_workers may have come between
   * park's check and prepare_park's lock, so that it parks straight from searching), and it
   * will not come back to the queues until it is made active. So it looks at every queue after
   * its barrier and wakes an active sleeper if nobody searches (worker.cpp's park). */
  if
  :: inactive[me] && (tasks > 0 || gvis > 0) -> wake_if_no_searcher()
  :: else -> skip
  fi;
#endif
#if G > 0
  /* announce_waiter: fold home_pending into the word and set the waiter bit in one CAS */
  if
  :: in_group ->
#ifdef BUG_FOLD_BEFORE_LIST
     skip        /* folded before prepare_park (see park_prepare) */
#else
     atomic {
#ifndef BUG_NO_FOLD
       wcount = wcount + home_pending;
       home_pending = 0;
#endif
       wbit = true;
       notify = (home_pending + wcount == 0)
     };
     if
     :: notify -> notify = false; goto cancel
     :: else -> skip
     fi
#endif
  :: else -> skip
  fi;
#endif
  goto end_parked;

cancel:
  /* cancel_park: still listed -> unlist and search; else a waker got here first (its token) */
  atomic {
    if
    :: listed[me] ->
       listed[me] = false; sleeping--; searching++; is_searching = true; goto loop
    :: else -> skip
    fi
  }
end_parked:
  if
  :: token[me] ->                    /* commit_park: woken */
     token[me] = false;
     is_searching = true;            /* the waker counted us as searching */
     if
     :: woke_beside = true           /* the wake may have been a same-CPU one */
     :: skip
     fi;
     goto loop
#ifdef TIMED
  :: may_time_out ->                 /* commit_park_until: the futex wait timed out */
     may_time_out = false;
     atomic {
       if
       :: listed[me] ->              /* unlisted ourselves: count as searching */
          listed[me] = false; sleeping--; searching++; is_searching = true; goto timed_out
       :: else -> skip               /* a waker unlisted us first: its token is set */
       fi
     }
     token[me];
     token[me] = false;
#ifdef BUG_TIMEOUT_DROPS_WAKE
     is_searching = false;           /* ...but the waker's searching count is never given back */
#else
     is_searching = true;
#endif
     goto loop
#endif
  fi;

#ifdef TIMED
timed_out:
  /* help_until's deadline passed: back in the waiting task (leave_search), or wait again */
  if
  :: goto loop
  :: goto leave_then_loop
  fi;
#endif

leave_then_park:
  leave_search();
  goto park_prepare;
leave_then_loop:
  leave_search();
  goto loop;

found_searching:
  leave_search();
  goto execute;
found:
  /* a woken worker that found work outside search stops searching first */
  if
  :: is_searching -> leave_search()
  :: else -> skip
  fi;
execute:
  if
  :: group_task && me == HOME ->
     gdone++;
     home_pending--                  /* finish_home */
  :: group_task && me != HOME ->
     gdone++;
     atomic {                        /* finish_shared: one RMW on the word */
       notify = wbit && wcount == 1;
       wcount--
     };
     if
     :: notify ->                    /* wake_group_waiters */
        notify = false;
        atomic {
          if
          :: listed[HOME] && waiting[HOME] -> wake_locked(HOME)
          :: else -> skip
          fi
        }
     :: else -> skip
     fi
  :: else -> done++
  fi;
  group_task = false;
  goto loop;

group_done:
  assert(gdone == G);                /* never returns before every task of the group ran */
  if
  :: is_searching -> leave_search()
  :: else -> skip
  fi;
  if                                 /* waiter_left */
  :: wbit -> wbit = false
  :: else -> skip
  fi;
  in_group = false;
  home_waiting = false;
  goto loop
}

#ifdef INACTIVE
/* set_active_workers(W - 1), then maybe set_active_workers(W): each set_active under the mutex,
 * then wake_after_publish (full fence; wake one if nobody searches). */
proctype controller() {
  atomic {
    nactive = W - 1;
    if
    :: listed[W - 1] -> inactive[W - 1] = true
    :: else -> skip
    fi
  };
  wake_if_no_searcher();
  if
  :: skip
  :: goto end_controller             /* or the count stays lowered */
  fi;
  atomic {
    nactive = W;
    if
    :: listed[W - 1] && inactive[W - 1] -> inactive[W - 1] = false; wake_locked(W - 1)
    :: else -> inactive[W - 1] = false
    fi
  };
  wake_if_no_searcher();
end_controller:
  skip
}
#endif

/* Whenever nothing can move, every task ran and nobody sleeps in a group wait. */
active proctype monitor() {
end_monitor:
  timeout ->
    assert(tasks == 0 && gvis == 0 && done == TOTAL && gdone == G && !home_waiting)
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < W -> run worker(i); i++
    :: i == W -> break
    od;
    i = 0;
    do
    :: i < P -> run producer(); i++
    :: i == P -> break
    od;
    i = 0;
    do
    :: i < L -> run lproducer(i); i++
    :: i == L -> break
    od;
#if L > 0 || G > 0
    run drain();
#endif
#ifdef INACTIVE
    run controller()
#endif
  }
}
