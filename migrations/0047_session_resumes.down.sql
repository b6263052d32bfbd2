DROP TABLE session_resumes;
