WITH raw_enrollments AS (
    SELECT
        (SELECT kv.value FROM UNNEST(ev.extra) AS kv WHERE kv.key = 'user_id' LIMIT 1) AS analysis_id,
        (SELECT kv.value FROM UNNEST(ev.extra) AS kv WHERE kv.key = 'branch' LIMIT 1) AS branch,
        DATE(MIN(en.submission_timestamp)) AS enrollment_date,
        COUNT(en.submission_timestamp) AS num_enrollment_events
    FROM `moz-fx-data-shared-prod.fenix.enrollment` en, UNNEST(en.events) AS ev
    WHERE (SELECT kv.value FROM UNNEST(ev.extra) AS kv WHERE kv.key = 'user_id' LIMIT 1) IS NOT NULL
        AND DATE(en.submission_timestamp) BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
        AND ev.category = 'cirrus_events'
        AND ev.name = 'enrollment'
        AND (SELECT kv.value FROM UNNEST(ev.extra) AS kv WHERE kv.key = 'experiment' LIMIT 1) = 'test-experiment'
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
            JSON_VALUE(ev.event_extra, '$.user_id') AS analysis_id,
            JSON_VALUE(ev.event_extra, '$.branch') AS branch,
            DATE(ev.submission_timestamp) AS submission_date
        FROM `moz-fx-data-shared-prod.fenix.events_stream` ev
        WHERE DATE(ev.submission_timestamp) BETWEEN DATE '2020-03-30' AND DATE '2020-04-06'
            AND ev.event_category = 'cirrus_events'
            AND ev.event_name IN ('expose', 'exposure')
            AND JSON_VALUE(ev.event_extra, '$.experiment') = 'test-experiment'
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
