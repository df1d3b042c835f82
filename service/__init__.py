"""The upload checker as a web service: students upload solution.py, a worker grades it in the sandbox.

Layout (FastAPI's "bigger applications"): ``app`` builds the application, ``routers/`` hold the
pages and the API, ``dependencies`` the per-request database session and the signed-in person,
``models`` the SQLAlchemy tables, ``schemas`` the JSON shapes of the API, ``jobs`` the database
queue, ``worker`` the loop that hands jobs to the grading executor, ``cli`` the ./run.py commands;
``uploads`` and ``parsing`` check an upload (the parse in processes of its own), ``security`` the
tokens and login sessions, ``state`` the server's secret files, ``headers`` and ``limits`` the HTTP
layer's protection.
"""
