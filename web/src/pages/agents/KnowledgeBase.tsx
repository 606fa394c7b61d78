import '@mantine/dropzone/styles.css';
import { ActionIcon, Alert, Badge, Group, Progress, Table, Text } from '@mantine/core';
import { Dropzone } from '@mantine/dropzone';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schema } from '../../api/client';
import { uploadForm } from '../../api/upload';
import { useCan } from '../../auth/session';
import { formatTime } from '../../lib/format';

type Doc = Schema<'KnowledgeDocument'>;

/** How often the list is re-read while a document is still `pending` (ms). */
export const KNOWLEDGE_POLL_MS = 1500;
/** The API's upload limit (src/http/routes/knowledge.ts DEFAULT_MAX_UPLOAD_BYTES), checked here first to fail fast. */
const MAX_BYTES = 5 * 1024 * 1024;
const ACCEPT = { 'text/plain': ['.txt'], 'text/markdown': ['.md'], 'text/html': ['.html', '.htm'], 'application/pdf': ['.pdf'] };

const STATUS_COLOR: Record<Doc['status'], string> = { pending: 'blue', ready: 'green', failed: 'red' };

/**
 * An agent's knowledge base: drag-and-drop upload (.txt, .md, .html, .pdf up to 5 MB) with a progress bar, the
 * documents with their ingestion status (re-read every {@link KNOWLEDGE_POLL_MS} while one is pending, so it turns
 * `ready` or `failed` by itself), and delete. Upload and delete need the supervisor role.
 */
export function KnowledgeBase({ agentId }: { agentId: string }) {
  const canEdit = useCan('supervisor');
  const qc = useQueryClient();
  const key = ['knowledge', agentId];
  const [progress, setProgress] = useState<number | null>(null);
  const docs = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET('/api/agents/{agentId}/knowledge', { params: { path: { agentId } } })),
    refetchInterval: (q) => (q.state.data?.documents.some((d) => d.status === 'pending') ? KNOWLEDGE_POLL_MS : false),
  });
  const upload = useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('title', file.name.replace(/\.[^.]+$/, ''));
      form.append('file', file);
      setProgress(0);
      return uploadForm<{ document: Doc }>(`/api/agents/${encodeURIComponent(agentId)}/knowledge`, form, setProgress);
    },
    onSettled: () => {
      setProgress(null);
      return qc.invalidateQueries({ queryKey: key });
    },
  });
  const remove = useMutation({
    mutationFn: (docId: string) => unwrap(api.DELETE('/api/agents/{agentId}/knowledge/{docId}', { params: { path: { agentId, docId } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <>
      {canEdit && (
        <Dropzone
          onDrop={(files) => files[0] && upload.mutate(files[0])}
          onReject={() => upload.reset()}
          maxSize={MAX_BYTES}
          maxFiles={1}
          multiple={false}
          accept={ACCEPT}
          loading={upload.isPending}
          mb="sm"
          aria-label="Upload a knowledge document"
        >
          <Text ta="center" py="md">
            Drop a document here or click to choose one (.txt, .md, .html, .pdf; up to 5 MB)
          </Text>
        </Dropzone>
      )}
      {progress !== null && <Progress value={Math.round(progress * 100)} aria-label="Upload progress" mb="sm" />}
      {upload.isError && (
        <Alert color="red" mb="sm" title="Upload failed">
          {upload.error.message}
        </Alert>
      )}
      {remove.isError && (
        <Alert color="red" mb="sm" title="Delete failed">
          {remove.error.message}
        </Alert>
      )}
      {docs.isError && <Alert color="red">{docs.error.message}</Alert>}
      {docs.data && docs.data.documents.length === 0 && <Text c="dimmed">No documents yet.</Text>}
      {docs.data && docs.data.documents.length > 0 && (
        <Table aria-label="Knowledge documents">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Title</Table.Th>
              <Table.Th>Language</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Chunks</Table.Th>
              <Table.Th>Updated</Table.Th>
              {canEdit && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {docs.data.documents.map((d) => (
              <Table.Tr key={d.id} data-testid="knowledge-doc">
                <Table.Td>{d.title}</Table.Td>
                <Table.Td>{d.language}</Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOR[d.status]} variant="light" title={d.error ?? undefined}>
                    {d.status}
                  </Badge>
                  {d.error && (
                    <Text size="sm" c="red">
                      {d.error}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{d.chunks}</Table.Td>
                <Table.Td>{formatTime(d.updatedAt)}</Table.Td>
                {canEdit && (
                  <Table.Td>
                    <Group>
                      <ActionIcon variant="subtle" color="red" aria-label={`Delete ${d.title}`} loading={remove.isPending && remove.variables === d.id} onClick={() => remove.mutate(d.id)}>
                        ✕
                      </ActionIcon>
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
