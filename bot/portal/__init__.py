"""The Stagecoach web portal: login, the students' chat page and data, the
supervisors' weekly logs and the coordinators' tools. See README.md."""
