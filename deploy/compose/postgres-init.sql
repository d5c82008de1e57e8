-- One database per service, owned by the kutse role (created by the image from POSTGRES_USER).
CREATE DATABASE kutse_intake;
CREATE DATABASE kutse_documents;
CREATE DATABASE kutse_assessment;
CREATE DATABASE kutse_committee;
CREATE DATABASE kutse_certificates;
CREATE DATABASE kutse_notifications;
