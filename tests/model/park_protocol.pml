/*
 * Model of Magpie's spin-then-park protocol (runtime/idle_set.cpp, runtime/worker.cpp),
 * checked with Spin: no lost wake-up and no deadlock.
 *
 *   spin -a park_protocol.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m100000
 *   (spin -DW=2 -DP=1 ... sets the workers and producers, TASKS the tasks per producer;
 *   tests/model/check.sh runs the configurations CI checks, and one seeded bug)
 *
 * What it abstracts away:
 *  - memory ordering: Promela interleaves statements under sequential consistency. The real
 *    code gets the same effect from its Dekker pairs (producer: publish; seq_cst fence; read
 *    state / parker: seq_cst RMW on state; fence; re-check queues); weak-memory behaviour is
 *    covered by the ThreadSanitizer runs and by tests/runtime.cpp's lost-wake-up probe and
 *    tools/magpie-stress's watchdog on real hardware, not here;
 *  - the queues: one counter of visible tasks stands for the injector and every deque;
 *  - timing: the spin budget is a nondeterministic number of extra looks (0 or 1);
 *  - the mutex: each d_step/atomic block below is one critical section of idle_set.
 * What it keeps: the searching/sleeping counts, the sleeper list, per-worker wake tokens, the
 * half-the-workers search limit, cancel-park after a successful re-check, the last searcher
 * waking another when work is visible, and the hand-off of searching after a same-CPU wake.
 *
 * Property: whenever the whole system is blocked (Promela's `timeout`), no task is left.
 * Spin also reports any invalid end state (a process blocked anywhere but a parked wait).
 */

#ifndef W
#define W 3
#endif
#ifndef P
#define P 2
#endif
#ifndef TASKS
#define TASKS 2
#endif

byte tasks = 0;          /* visible, not yet taken */
byte done = 0;           /* tasks run */
byte searching = 0;      /* state word, low half */
byte sleeping = 0;       /* state word, high half */
bool listed[W];          /* the sleeper list */
bool token[W];           /* per-worker futex word */

/* wake_locked: unlist i, count it as searching, set its token. Caller holds the mutex. */
inline wake_locked(i) {
  listed[i] = false;
  sleeping--;
  searching++;
  token[i] = true
}

/* wake_if_no_searcher / wake_one_slow: under the mutex, wake any sleeper if nobody searches. */
inline wake_if_no_searcher() {
  atomic {
    if
    :: searching == 0 && sleeping > 0 ->
       if
       :: listed[0] -> wake_locked(0)
       :: W > 1 && listed[1] -> wake_locked(1)
       :: W > 2 && listed[2] -> wake_locked(2)
       fi
    :: else -> skip
    fi
  }
}

proctype producer() {
  byte n = 0;
  do
  :: n < TASKS ->
     tasks++;               /* publish */
     wake_if_no_searcher(); /* fence; read state; wake one if nobody searches */
     n++
  :: n == TASKS -> break
  od
}

proctype worker(byte me) {
  bool is_searching = false;
  byte looks;
  bool woke_beside = false;

loop:
  /* own deque, then injector */
  atomic {
    if
    :: tasks > 0 -> tasks--; goto found
    :: else -> skip
    fi
  }
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
       if
       :: searching == 0 || 2 * searching < W -> searching++; is_searching = true
       :: else -> goto park
       fi
     }
  :: else -> skip
  fi;
  looks = 0;
  do
  :: atomic { tasks > 0 -> tasks--; goto found_searching }
  :: looks < 1 -> looks++          /* spin budget not yet spent: look again */
  :: break                          /* spin budget spent */
  od;

park:
  /* prepare_park: list ourselves, searching -> sleeping, in one critical section */
  atomic {
    listed[me] = true;
    token[me] = false;
    sleeping++;
    if
    :: is_searching -> searching--; is_searching = false
    :: else -> skip
    fi
  }
  /* re-check after the announcement (BUG_NO_RECHECK: the mutation CI expects Spin to reject) */
  if
#ifndef BUG_NO_RECHECK
  :: tasks > 0 ->
     atomic {
       if
       :: listed[me] -> listed[me] = false; sleeping--; searching++; is_searching = true; goto loop
       :: else -> skip     /* a waker got here first: its token is (being) set */
       fi
     }
#endif
  :: else -> skip
  fi;
end_parked:
  token[me] == true;      /* commit_park: sleep until woken */
  token[me] = false;
  is_searching = true;     /* the waker counted us as searching */
  if
  :: woke_beside = true    /* nondeterministic: the wake may have been a same-CPU one */
  :: skip
  fi;
  goto loop;

found_searching:
  /* leave_search: the last searcher wakes another if work is still visible */
  atomic { searching--; is_searching = false };
  if
  :: searching == 0 && tasks > 0 -> wake_if_no_searcher()
  :: else -> skip
  fi;
  goto execute;
found:
  /* a woken worker that found work outside search stops searching first */
  if
  :: is_searching ->
     atomic { searching--; is_searching = false };
     if
     :: searching == 0 && tasks > 0 -> wake_if_no_searcher()
     :: else -> skip
     fi
  :: else -> skip
  fi;
execute:
  done++;
  goto loop
}

/* Whenever nothing can move, every published task must have been taken. */
active proctype monitor() {
end_monitor:
  timeout -> assert(tasks == 0 && done == P * TASKS)
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
    od
  }
}
