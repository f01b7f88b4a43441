"""Background jobs: a record per job that its owner sees, run by procrastinate workers.

``models`` holds the job records (every backend), ``service`` their life (submit, claim,
progress, cancel, finish), ``kinds`` what a domain declares (a job kind or a periodic task),
``worker`` the procrastinate worker with the feeder and the lease keeper, ``cli`` the
``emergency worker`` command, ``api`` and ``views`` the list of jobs for their owners.
"""
