/* The run's wall-clock limit, without Unicorn's timeout thread.

   uc_emu_start(timeout) starts a thread per call that wakes every 2 microseconds (usleep(2) in
   Unicorn 2.1.4's _timeout_fn) to look at the clock: on these machines that thread took 14% of
   a Linux boot's CPU samples, in wake-ups and context switches. This one thread per machine
   sleeps on a condition variable until the deadline, or until the run loop disarms it, and
   then does what Unicorn's would: uc_emu_stop. Arm and disarm are called around each
   emu_start; once disarm has returned, the thread will not stop the emulator. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef int (*uc_emu_stop_t)(void *uc);

struct xenhvc_timer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* on CLOCK_MONOTONIC */
    uc_emu_stop_t emu_stop;
    void *uc;
    struct timespec deadline;
    int armed, fired, quit;
};

static void *timer_main(void *arg)
{
    struct xenhvc_timer *t = arg;

    pthread_mutex_lock(&t->lock);
    while (!t->quit) {
        if (!t->armed) {
            pthread_cond_wait(&t->cond, &t->lock);
            continue;
        }
        if (pthread_cond_timedwait(&t->cond, &t->lock, &t->deadline) == ETIMEDOUT && t->armed) {
            t->armed = 0;
            t->fired = 1;
            t->emu_stop(t->uc);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct xenhvc_timer *xenhvc_timer_new(uc_emu_stop_t emu_stop)
{
    struct xenhvc_timer *t = calloc(1, sizeof(*t));
    pthread_condattr_t attr;

    if (t == NULL)
        return NULL;
    t->emu_stop = emu_stop;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    return t;
}

/* Stop the emulation of ``uc`` after ``us`` microseconds, unless disarmed first. */
void xenhvc_timer_arm(struct xenhvc_timer *t, void *uc, uint64_t us)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&t->lock);
    t->uc = uc;
    t->deadline.tv_sec = now.tv_sec + (time_t)(us / 1000000);
    t->deadline.tv_nsec = now.tv_nsec + (long)(us % 1000000) * 1000;
    if (t->deadline.tv_nsec >= 1000000000L) {
        t->deadline.tv_sec++;
        t->deadline.tv_nsec -= 1000000000L;
    }
    t->armed = 1;
    t->fired = 0;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

/* 1 if the timer stopped the emulation since it was armed. */
int xenhvc_timer_disarm(struct xenhvc_timer *t)
{
    int fired;

    pthread_mutex_lock(&t->lock);
    t->armed = 0;
    fired = t->fired;
    t->fired = 0;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return fired;
}

void xenhvc_timer_free(struct xenhvc_timer *t)
{
    pthread_mutex_lock(&t->lock);
    t->quit = 1;
    t->armed = 0;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
