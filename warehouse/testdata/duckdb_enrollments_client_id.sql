WITH raw_enrollments AS (
    SELECT
        e.client_id AS analysis_id,
        map_get_key(e.event_map_values, 'branch') AS branch,
        MIN(e.submission_date) AS enrollment_date,
        COUNT(e.submission_date) AS num_enrollment_events
    FROM "telemetry"."events" e
    WHERE e.event_category = 'normandy'
        AND e.event_method = 'enroll'
        AND e.submission_date BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
        AND e.event_string_value = 'test-experiment'
        AND e.sample_id < 100
    GROUP BY 1, 2
),
segmented_enrollments AS (
    SELECT raw_enrollments.*, seg_0."regular_user_v3" FROM raw_enrollments
    LEFT JOIN (
        SELECT
            e.analysis_id, e.branch,
            COALESCE(bool_or(is_regular_user_v3), FALSE) AS "regular_user_v3"
        FROM raw_enrollments e
        LEFT JOIN "telemetry"."clients_last_seen" ds
            ON ds.client_id = e.analysis_id
            AND ds.submission_date BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
            AND ds.submission_date BETWEEN (e.enrollment_date + CAST(0 AS INTEGER)) AND (e.enrollment_date + CAST(0 AS INTEGER))
        GROUP BY e.analysis_id, e.branch
    ) seg_0 USING (analysis_id, branch)
),
exposures AS (
    SELECT
        re.analysis_id,
        re.branch,
        MIN(x.submission_date) AS exposure_date,
        COUNT(x.submission_date) AS num_exposure_events
    FROM raw_enrollments re
    JOIN (
        SELECT
            ev.client_id AS analysis_id,
            map_get_key(ev.event_map_values, 'branchSlug') AS branch,
            ev.submission_date
        FROM "telemetry"."events" ev
        WHERE ev.event_category = 'normandy'
            AND ev.event_method IN ('exposure', 'expose')
            AND ev.submission_date BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
            AND ev.event_string_value = 'test-experiment'
    ) x
        ON re.analysis_id = x.analysis_id
        AND re.branch = x.branch
        AND x.submission_date >= re.enrollment_date
    GROUP BY 1, 2
)
SELECT
    se.*,
    x.exposure_date,
    x.num_exposure_events
FROM segmented_enrollments se
LEFT JOIN exposures x USING (analysis_id, branch)
