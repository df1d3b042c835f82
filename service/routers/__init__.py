"""The routes: sign-in, the students' pages, the API, the instructors' pages."""
