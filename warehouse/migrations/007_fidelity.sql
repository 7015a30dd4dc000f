-- Fidelity (issue K): every Meeting Guide field the sources give is carried, what the pipeline derives says
-- how (end_time_source, coordinates_source; timezone_source gains 'city' and 'state'), monthly meetings are
-- told from weekly ones, and a place we could not parse is kept as the source wrote it. Columns are added at
-- the end of each table; the code inserts BY NAME (transforms.model.FIELD_NAMES is the list, not the order).

-- What the families now read from their formats (extractors.records.SourceRecord).
ALTER TABLE staging.source_records ADD COLUMN group_notes VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN district VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN website VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN entity VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN entity_url VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN entity_email VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN entity_phone VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN entity_location VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN feedback_url VARCHAR;
ALTER TABLE staging.source_records ADD COLUMN source_regions VARCHAR[];

-- The new canonical fields, on every table that holds a meeting's fields.
ALTER TABLE core.meeting_versions ADD COLUMN group_notes VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN district VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN website VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN end_time_source VARCHAR;      -- source | duration | none
ALTER TABLE core.meeting_versions ADD COLUMN frequency VARCHAR;            -- weekly | monthly
ALTER TABLE core.meeting_versions ADD COLUMN weeks_of_month TINYINT[];     -- 1–5, -1 = last
ALTER TABLE core.meeting_versions ADD COLUMN unparsed_address VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN source_regions VARCHAR[];
ALTER TABLE core.meeting_versions ADD COLUMN coordinates_source VARCHAR;   -- source | postal | none
ALTER TABLE core.meeting_versions ADD COLUMN conference_url_notes VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN conference_phone_notes VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN entity VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN entity_url VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN entity_email VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN entity_phone VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN entity_location VARCHAR;
ALTER TABLE core.meeting_versions ADD COLUMN feedback_url VARCHAR;

ALTER TABLE core.meetings ADD COLUMN group_notes VARCHAR;
ALTER TABLE core.meetings ADD COLUMN district VARCHAR;
ALTER TABLE core.meetings ADD COLUMN website VARCHAR;
ALTER TABLE core.meetings ADD COLUMN end_time_source VARCHAR;
ALTER TABLE core.meetings ADD COLUMN frequency VARCHAR;
ALTER TABLE core.meetings ADD COLUMN weeks_of_month TINYINT[];
ALTER TABLE core.meetings ADD COLUMN unparsed_address VARCHAR;
ALTER TABLE core.meetings ADD COLUMN source_regions VARCHAR[];
ALTER TABLE core.meetings ADD COLUMN coordinates_source VARCHAR;
ALTER TABLE core.meetings ADD COLUMN conference_url_notes VARCHAR;
ALTER TABLE core.meetings ADD COLUMN conference_phone_notes VARCHAR;
ALTER TABLE core.meetings ADD COLUMN entity VARCHAR;
ALTER TABLE core.meetings ADD COLUMN entity_url VARCHAR;
ALTER TABLE core.meetings ADD COLUMN entity_email VARCHAR;
ALTER TABLE core.meetings ADD COLUMN entity_phone VARCHAR;
ALTER TABLE core.meetings ADD COLUMN entity_location VARCHAR;
ALTER TABLE core.meetings ADD COLUMN feedback_url VARCHAR;

ALTER TABLE core.meeting_history ADD COLUMN group_notes VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN district VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN website VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN end_time_source VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN frequency VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN weeks_of_month TINYINT[];
ALTER TABLE core.meeting_history ADD COLUMN unparsed_address VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN source_regions VARCHAR[];
ALTER TABLE core.meeting_history ADD COLUMN coordinates_source VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN conference_url_notes VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN conference_phone_notes VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN entity VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN entity_url VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN entity_email VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN entity_phone VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN entity_location VARCHAR;
ALTER TABLE core.meeting_history ADD COLUMN feedback_url VARCHAR;

-- Survivorship positions of the new fields (transforms/survivorship.py RULES).
ALTER TABLE core.meeting_field_sources ADD COLUMN group_notes SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN district SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN website SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN end_time_source SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN frequency SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN weeks_of_month SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN unparsed_address SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN source_regions SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN coordinates_source SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN conference_url_notes SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN conference_phone_notes SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN entity SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN entity_url SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN entity_email SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN entity_phone SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN entity_location SMALLINT;
ALTER TABLE core.meeting_field_sources ADD COLUMN feedback_url SMALLINT;

-- Every current fetch is normalized again on the next run, so no meeting keeps an invented end time or a
-- lost time zone. Fields the families did not read before arrive when a source's bytes change, or at once
-- with a replay of the archive.
DELETE FROM ops.normalized_fetches;
