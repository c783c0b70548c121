"""`make soak`: simulated customers against gunicorn + PostgreSQL + Redis + a Celery worker, then faults.

prepare.py creates the customers, run.py starts and stops the servers, driver.py plays the customers
and checks the database afterwards. Nothing here runs in production.
"""
