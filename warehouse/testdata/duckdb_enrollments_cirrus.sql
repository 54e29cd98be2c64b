WITH raw_enrollments AS (
    SELECT
        map_get_key(ev.extra, 'user_id') AS analysis_id,
        map_get_key(ev.extra, 'branch') AS branch,
        CAST(MIN(en.submission_timestamp) AS DATE) AS enrollment_date,
        COUNT(en.submission_timestamp) AS num_enrollment_events
    FROM "fenix"."enrollment" en, unnest(en.events) AS ev(ev)
    WHERE map_get_key(ev.extra, 'user_id') IS NOT NULL
        AND CAST(en.submission_timestamp AS DATE) BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
        AND ev.category = 'cirrus_events'
        AND ev.name = 'enrollment'
        AND map_get_key(ev.extra, 'experiment') = 'test-experiment'
        AND en.client_info.app_channel = 'production'
    GROUP BY 1, 2
),
segmented_enrollments AS (
    SELECT raw_enrollments.* FROM raw_enrollments
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
            bq_json_value(ev.event_extra, '$.user_id') AS analysis_id,
            bq_json_value(ev.event_extra, '$.branch') AS branch,
            CAST(ev.submission_timestamp AS DATE) AS submission_date
        FROM "fenix"."events_stream" ev
        WHERE CAST(ev.submission_timestamp AS DATE) BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
            AND ev.event_category = 'cirrus_events'
            AND ev.event_name IN ('expose', 'exposure')
            AND bq_json_value(ev.event_extra, '$.experiment') = 'test-experiment'
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
