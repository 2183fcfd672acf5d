from django.db import models


class WorkerHeartbeat(models.Model):
    """Last sign of life of each task worker, read by /healthz (public schema)."""

    worker_id = models.CharField(max_length=64, unique=True)
    last_seen = models.DateTimeField()

    class Meta:
        verbose_name = "任务进程心跳"

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
