"""gunicorn settings for Lotse (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

Command-line options override these (the drill sets its own port and worker count).
"""

import gc

bind = "127.0.0.1:8000"
workers = 4  # 2 per core; each is a process of ~150 MB
timeout = 30  # a request still running after this is killed (nginx waits 35 s)
graceful_timeout = 25  # SIGTERM/SIGHUP: requests in flight may finish this long
preload_app = True  # the app is imported once; workers fork from it and start at once
max_requests = 2000  # recycle workers now and then, against slow leaks
max_requests_jitter = 200
accesslog = "-"
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): a second
# instance on the machine (another town, a drill) cannot bind it.  Lotse does not use it.
control_socket_disable = True


def pre_fork(server, worker):
    """Keep the preloaded app out of the workers' garbage collector.

    Without it every worker walks the whole inherited heap when it exits, which made a
    SIGTERM take 15–20 s instead of 2 on a busy machine (measured by bench/drill.py), and
    the walk copies pages the workers would otherwise share with the master.
    """
    gc.freeze()
